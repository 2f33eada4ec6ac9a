"""Per-conversation locks, so one conversation's events run one at a time.

Two workers handling two messages of the same chat at once would both read the
same snapshot; compare-and-set catches the second write, but only after its
side effects were decided. The lock is taken before the snapshot is read (the
lesson of aiogram's event isolation) and is a lease: a worker that crashes
while holding it blocks the conversation only until the lease runs out.
Release and extend check the owner's random token, so a worker whose lease
already expired cannot free or prolong the lock of the worker that took over.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import redis

from commerce.identity import ConversationKey
from flows.keys import KeyBuilder

LOCK_KIND = "lock:conversation"
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_WAIT_SECONDS = 5.0

T = TypeVar("T")


class LockTimeout(Exception):
    """The lock stayed taken for the whole wait; the caller retries the event later."""

    retryable = True


class Lease:
    """Proof of holding one conversation's lock; a context manager that releases it."""

    def __init__(self, locks: ConversationLocks, key: ConversationKey, token: str) -> None:
        self.locks = locks
        self.key = key
        self.token = token

    def release(self) -> bool:
        """Free the lock; False when it had already expired (another may hold it now)."""
        return self.locks._release(self.key, self.token)

    def extend(self, seconds: float | None = None) -> bool:
        """Restart the lease from now; False when the lock is no longer ours."""
        return self.locks._extend(self.key, self.token, seconds or self.locks.lease_seconds)

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class ConversationLocks:
    """Lock contract and the waiting loop shared by both backends, which supply
    the three atomic steps (take, give back, prolong)."""

    def __init__(self, lease_seconds: float, poll_seconds: float) -> None:
        if lease_seconds <= 0 or poll_seconds <= 0:
            raise ValueError("lease and poll intervals must be positive")
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds

    def acquire(
        self,
        key: ConversationKey,
        timeout: float = DEFAULT_WAIT_SECONDS,
        lease_seconds: float | None = None,
    ) -> Lease:
        """Wait up to ``timeout`` seconds (0: try once) for the lock, or raise LockTimeout."""
        lease, _ = self.wait_for(key, lambda token, seconds: self._try(key, token, seconds)
                                 or None, timeout, lease_seconds)
        return lease

    def wait_for(
        self,
        key: ConversationKey,
        take: Callable[[str, float], T | None],
        timeout: float = DEFAULT_WAIT_SECONDS,
        lease_seconds: float | None = None,
    ) -> tuple[Lease, T]:
        """The waiting loop of ``acquire`` around a caller's own way of taking the lock.

        ``take(token, lease_seconds)`` tries once and returns None when the lock is
        held by someone else, or anything else once it took the lock with ``token``
        (the inbox worker takes it and peeks at the mailbox in one script)."""
        token = secrets.token_hex(16)
        lease = lease_seconds or self.lease_seconds
        deadline = time.monotonic() + max(timeout, 0.0)
        while (taken := take(token, lease)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeout(f"conversation {key.as_str()} is busy")
            # Jitter keeps waiters that woke together from retrying in lockstep.
            time.sleep(min(remaining, self.poll_seconds * random.uniform(0.5, 1.5)))
        return Lease(self, key, token), taken

    def _try(self, key: ConversationKey, token: str, lease: float) -> bool:
        raise NotImplementedError

    def _release(self, key: ConversationKey, token: str) -> bool:
        raise NotImplementedError

    def _extend(self, key: ConversationKey, token: str, lease: float) -> bool:
        raise NotImplementedError


#: The lock protocol as Lua functions: the value is the holder's token and the TTL
#: the lease. Scripts that take, extend or free a conversation's lock together with
#: other work in one round trip (the inbox worker's) include these, so the protocol
#: is written once.
LOCK_LUA = """
local function lock_take(key, token, lease_ms)
  return redis.call('SET', key, token, 'NX', 'PX', lease_ms)
end
local function lock_extend(key, token, lease_ms)
  if redis.call('GET', key) == token then
    return redis.call('PEXPIRE', key, lease_ms)
  end
  return 0
end
local function lock_free(key, token)
  if redis.call('GET', key) == token then
    return redis.call('DEL', key)
  end
  return 0
end
"""

_RELEASE = LOCK_LUA + "return lock_free(KEYS[1], ARGV[1])"
_EXTEND = LOCK_LUA + "return lock_extend(KEYS[1], ARGV[1], ARGV[2])"


class RedisConversationLocks(ConversationLocks):
    """Locks shared by every process: ``SET NX PX`` to take, token-checked Lua to give back."""

    def __init__(
        self,
        client: redis.Redis,
        keys: KeyBuilder | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_seconds: float = 0.01,
    ) -> None:
        super().__init__(lease_seconds, poll_seconds)
        self._redis = client
        self._keys = keys or KeyBuilder()
        self._release_script = client.register_script(_RELEASE)
        self._extend_script = client.register_script(_EXTEND)

    def name(self, key: ConversationKey) -> str:
        """The Redis key of ``key``'s lock, for scripts built on ``LOCK_LUA``."""
        return self._keys.build(LOCK_KIND, key)

    def name_prefix(self) -> str:
        """What every lock's key starts with: ``name(key) == name_prefix() +
        key.as_str()``, for a script that learns the conversation inside Redis."""
        return self._keys.head(LOCK_KIND)

    def _try(self, key: ConversationKey, token: str, lease: float) -> bool:
        return bool(self._redis.set(self.name(key), token, nx=True, px=ms(lease)))

    def _release(self, key: ConversationKey, token: str) -> bool:
        return bool(self._release_script(keys=[self.name(key)], args=[token]))

    def _extend(self, key: ConversationKey, token: str, lease: float) -> bool:
        return bool(self._extend_script(keys=[self.name(key)], args=[token, ms(lease)]))


class MemoryConversationLocks(ConversationLocks):
    """Same contract inside one process; ``clock`` (monotonic seconds) lets tests
    move time to expire a lease without sleeping."""

    def __init__(
        self,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_seconds: float = 0.002,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(lease_seconds, poll_seconds)
        self._clock = clock
        self._mutex = threading.Lock()
        self._held: dict[ConversationKey, tuple[str, float]] = {}

    def _owner(self, key: ConversationKey) -> str | None:
        held = self._held.get(key)
        if held is None or held[1] <= self._clock():
            return None
        return held[0]

    def _try(self, key: ConversationKey, token: str, lease: float) -> bool:
        with self._mutex:
            if self._owner(key) is not None:
                return False
            self._held[key] = (token, self._clock() + lease)
            return True

    def _release(self, key: ConversationKey, token: str) -> bool:
        with self._mutex:
            if self._owner(key) != token:
                return False
            del self._held[key]
            return True

    def _extend(self, key: ConversationKey, token: str, lease: float) -> bool:
        with self._mutex:
            if self._owner(key) != token:
                return False
            self._held[key] = (token, self._clock() + lease)
            return True


def ms(seconds: float) -> int:
    """A lease in whole milliseconds for ``PX``/``PEXPIRE`` (at least 1)."""
    return max(1, int(seconds * 1000))

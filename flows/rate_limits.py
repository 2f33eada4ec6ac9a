"""Limits that keep six-digit binding codes from being guessed or farmed.

A million codes, ten minutes each: a chat user allowed unlimited tries would
find a live one quickly, so wrong attempts per chat user are counted and lead
to a lockout. And a visitor (or a script posing as one) asking for code after
code would fill the code space, so codes issued per visitor are capped.

Both are sliding windows kept as sorted sets of timestamps in Redis and
updated by one Lua script per call, so concurrent workers cannot both slip
under the limit. Times come from an injectable clock (the stored scores are
that clock's milliseconds); Redis TTLs only clean up afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import redis

from commerce.identity import ConversationKey
from flows.keys import KeyBuilder

Subject = ConversationKey | str


@dataclass(frozen=True)
class FailureLimit:
    """``max_failures`` wrong attempts within ``window`` lock out for ``lockout``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` hits within any ``window``."""

    limit: int = 10
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: timedelta = timedelta(0)


#: Lua defining ``count_failure()``, for any script whose KEYS[1..2] and ARGV[1..5]
#: are ``AttemptLimiter.failure_call``'s: log and lockout key; now (ms), window (ms),
#: max failures, lockout (ms), a unique member. It returns the unlock time (ms) if
#: the user is (now) locked out, else 0. Shared so that the binding-code attempt
#: script (``flows.binding_codes``) counts exactly as ``register_failure`` does.
FAILURE_LUA = """
local function count_failure()
  local now = tonumber(ARGV[1])
  local locked_until = tonumber(redis.call('GET', KEYS[2]) or '0')
  if locked_until > now then return locked_until end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    local unlock = now + tonumber(ARGV[4])
    redis.call('SET', KEYS[2], string.format('%d', unlock), 'PX', ARGV[4])
    redis.call('DEL', KEYS[1])
    return unlock
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
"""

_FAILURE = FAILURE_LUA + "return count_failure()\n"

_HIT = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now
"""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AttemptLimiter:
    """Wrong binding-code attempts per chat user, with a lockout.

    Reaching the limit clears the count, so after the lockout the user starts
    over with a full allowance rather than being locked again on the next slip.
    """

    def __init__(
        self,
        client: redis.Redis,
        limit: FailureLimit = FailureLimit(),
        clock: Callable[[], datetime] = _utc_now,
        *,
        keys: KeyBuilder | None = None,
        kind: str = "ratelimit:binding-failures",
    ) -> None:
        if limit.max_failures < 1 or limit.window <= timedelta(0) or limit.lockout <= timedelta(0):
            raise ValueError(f"unusable failure limit {limit}")
        self._redis = client
        self._limit = limit
        self._clock = clock
        self._keys = keys or KeyBuilder()
        self._kind = kind
        self._script = client.register_script(_FAILURE)

    def _names(self, subject: Subject) -> list[str]:
        return [
            self._keys.build(f"{self._kind}:log", subject),
            self._keys.build(f"{self._kind}:lockout", subject),
        ]

    def failure_call(self, subject: Subject) -> tuple[list[str], list[int | str]]:
        """KEYS and ARGV of ``FAILURE_LUA`` for one wrong attempt by ``subject`` now.

        For scripts that count a failure among other things; KEYS[1] is the
        attempt log (``clear`` deletes it), KEYS[2] the lockout, ARGV[1] now in ms.
        """
        now = _ms_epoch(self._clock())
        limit = self._limit
        args: list[int | str] = [now, _ms(limit.window), limit.max_failures,
                                 _ms(limit.lockout), _member(now)]
        return self._names(subject), args

    def register_failure(self, subject: Subject) -> datetime | None:
        """Count one wrong attempt; the unlock time if the user is (now) locked out."""
        keys, args = self.failure_call(subject)
        unlock = int(self._script(keys=keys, args=args))
        return from_ms_epoch(unlock) if unlock else None

    def is_locked(self, subject: Subject) -> datetime | None:
        """The unlock time while ``subject`` is locked out, else None."""
        raw = self._redis.get(self._names(subject)[1])
        if raw is None:
            return None
        unlock = int(raw)
        return from_ms_epoch(unlock) if unlock > _ms_epoch(self._clock()) else None

    def clear(self, subject: Subject) -> None:
        """Forget the attempts (after a successful binding); a lockout stays."""
        self._redis.delete(self._names(subject)[0])


class RateLimiter:
    """Events per subject in a sliding window (codes issued per visitor)."""

    def __init__(
        self,
        client: redis.Redis,
        limit: RateLimit = RateLimit(),
        clock: Callable[[], datetime] = _utc_now,
        *,
        keys: KeyBuilder | None = None,
        kind: str = "ratelimit:binding-codes",
    ) -> None:
        if limit.limit < 1 or limit.window <= timedelta(0):
            raise ValueError(f"unusable rate limit {limit}")
        self._limit = limit
        self._clock = clock
        self._keys = keys or KeyBuilder()
        self._kind = kind
        self._script = client.register_script(_HIT)

    def hit(self, subject: Subject) -> RateDecision:
        """Count one event if the window has room; otherwise say when it will."""
        now = _ms_epoch(self._clock())
        args = [now, _ms(self._limit.window), self._limit.limit, _member(now)]
        wait = int(self._script(keys=[self._keys.build(self._kind, subject)], args=args))
        if wait <= 0:
            return RateDecision(True)
        return RateDecision(False, timedelta(milliseconds=wait))


def _member(now_ms: int) -> str:
    """Unique per event, so two events in the same millisecond both count."""
    return f"{now_ms}-{secrets.token_hex(6)}"


def _ms(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() * 1000))


def _ms_epoch(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms_epoch(ms: int) -> datetime:
    """A time these limits store (ms since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)

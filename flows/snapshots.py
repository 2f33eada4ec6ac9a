"""Where a conversation's dialog state lives between two messages.

One snapshot per conversation: the flow it is in, the flow's version, the state,
the flow's JSON data, and a version number that every write bumps. Writes are
compare-and-set on that number, so a worker that read an old snapshot (because
another worker handled a later message of the same conversation first) gets a
refusal instead of silently undoing the other's work. Snapshots that wait for
an answer carry ``expires_at`` and are listed in an index ordered by it, so a
sweeper can find them without scanning every conversation.

Two backends keep the same contract: memory (unit tests, one process) and Redis
(every real run; TTL-bound so abandoned conversations do not pile up).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis

from commerce.identity import ConversationKey
from flows.keys import KeyBuilder

SNAPSHOT_KIND = "flow:snapshot"
DUE_INDEX_KIND = "flow:due"
DEFAULT_IDLE_TTL = timedelta(days=7)


@dataclass(frozen=True)
class Snapshot:
    """The saved state of one conversation's active flow.

    ``version`` counts writes of this conversation's snapshot (1 for the first);
    ``flow_version`` is the version of the flow definition that wrote it, so a
    newer definition can migrate or reset it.
    """

    flow: str
    flow_version: int
    state: str
    data: dict[str, Any]
    version: int
    updated_at: datetime
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.version < 1 or self.flow_version < 1:
            raise ValueError("snapshot and flow versions start at 1")
        if not isinstance(self.data, dict):
            raise ValueError("snapshot data must be a dict")
        for name in ("updated_at", "expires_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"snapshot {name} must be timezone-aware")

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def to_json(self) -> str:
        """Serialise, refusing data that would not come back equal from JSON."""
        body = {
            "flow": self.flow,
            "flow_version": self.flow_version,
            "state": self.state,
            "data": self.data,
            "version": self.version,
            "updated_at": self.updated_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }
        try:
            text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"snapshot data is not JSON: {exc}") from exc
        if json.loads(text)["data"] != self.data:
            raise ValueError("snapshot data does not survive JSON (tuples or non-string keys?)")
        return text

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        body = json.loads(text)
        expires = body.get("expires_at")
        return cls(
            flow=body["flow"],
            flow_version=int(body["flow_version"]),
            state=body["state"],
            data=body["data"],
            version=int(body["version"]),
            updated_at=datetime.fromisoformat(body["updated_at"]),
            expires_at=datetime.fromisoformat(expires) if expires else None,
        )


class SnapshotStore(Protocol):
    """Storage of snapshots with compare-and-set writes and an expiry index."""

    def load(self, key: ConversationKey) -> Snapshot | None: ...

    def save(self, key: ConversationKey, snapshot: Snapshot, expected_version: int) -> bool:
        """Write if the stored version is ``expected_version`` (0: none stored)."""
        ...

    def delete(self, key: ConversationKey, expected_version: int) -> bool: ...

    def due(self, now: datetime, limit: int) -> list[ConversationKey]:
        """Conversations whose snapshot expired at or before ``now``, oldest first."""
        ...


def _check_write(snapshot: Snapshot, expected_version: int) -> str:
    if snapshot.version != expected_version + 1:
        raise ValueError(
            f"snapshot version {snapshot.version} must follow the expected {expected_version}"
        )
    return snapshot.to_json()


class MemorySnapshotStore:
    """In-process store for unit tests; keeps JSON text so both backends
    reject the same non-JSON data and hand out independent copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[ConversationKey, tuple[int, str, datetime | None]] = {}

    def load(self, key: ConversationKey) -> Snapshot | None:
        with self._lock:
            row = self._rows.get(key)
        return Snapshot.from_json(row[1]) if row else None

    def save(self, key: ConversationKey, snapshot: Snapshot, expected_version: int) -> bool:
        text = _check_write(snapshot, expected_version)
        with self._lock:
            row = self._rows.get(key)
            if (row[0] if row else 0) != expected_version:
                return False
            self._rows[key] = (snapshot.version, text, snapshot.expires_at)
            return True

    def delete(self, key: ConversationKey, expected_version: int) -> bool:
        with self._lock:
            row = self._rows.get(key)
            if row is None or row[0] != expected_version:
                return False
            del self._rows[key]
            return True

    def due(self, now: datetime, limit: int) -> list[ConversationKey]:
        if limit <= 0:
            return []
        with self._lock:
            waiting = [(exp, key) for key, (_, _, exp) in self._rows.items() if exp and exp <= now]
        waiting.sort(key=lambda item: item[0])
        return [key for _, key in waiting[:limit]]


_SAVE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'snapshot', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[2], ARGV[5])
else
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
end
return 1
"""

_DELETE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current == 0 or current ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""

# Index entries whose snapshot vanished by TTL are dropped here, atomically
# with the existence check, so a snapshot written meanwhile keeps its entry.
_PRUNE = """
local alive = {}
for i, member in ipairs(ARGV) do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then
    table.insert(alive, member)
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return alive
"""


class _Preloaded(threading.local):
    """One thread's preloaded snapshot: the conversation and its JSON (None: none
    stored). ``conversation`` None: nothing preloaded."""

    conversation: str | None = None
    text: str | bytes | None = None


class RedisSnapshotStore:
    """Snapshots as Redis hashes (``version`` + ``snapshot`` JSON) with a TTL.

    The TTL is ``idle_ttl`` past the snapshot's own deadline (or past its last
    write when it has none): long enough for a sweeper that was down for a while
    to still find it, short enough that abandoned chats disappear on their own.

    The store is also the inbox worker's ``Prefetch``: the worker's scripts read a
    conversation's snapshot field (``prefetch_prefix`` + conversation,
    ``prefetch_field``) in the same round trip that hands it the event, and run
    the handler inside ``preloaded``, so ``load`` of that conversation answers
    without asking Redis. That is sound because snapshots are only written under
    the conversation's lock, which the worker holds from that read until the
    handler returns; writes made meanwhile through this store update the
    preloaded value, so a later ``load`` in the same event sees them.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: KeyBuilder | None = None,
        *,
        idle_ttl: timedelta = DEFAULT_IDLE_TTL,
    ) -> None:
        self._redis = client
        self._keys = keys or KeyBuilder()
        self._idle_ttl = idle_ttl
        self._index = self._keys.build(DUE_INDEX_KIND)
        self._save = client.register_script(_SAVE)
        self._delete = client.register_script(_DELETE)
        self._prune = client.register_script(_PRUNE)
        self._preloaded = _Preloaded()  # per thread: a worker process runs several
        self.prefetch_prefix = self._keys.head(SNAPSHOT_KIND)
        self.prefetch_field = "snapshot"

    def _key(self, key: ConversationKey) -> str:
        return self._keys.build(SNAPSHOT_KIND, key)

    @contextmanager
    def preloaded(self, conversation: str, value: bytes | None) -> Iterator[None]:
        """Within the block, this thread's ``load`` of ``conversation`` (a
        ``ConversationKey.as_str()``) returns ``value`` (the stored snapshot JSON,
        None when there is none) instead of reading Redis. The caller must hold the
        conversation's lock for the whole block and have read ``value`` under it."""
        held = self._preloaded
        outer = held.conversation, held.text
        held.conversation, held.text = conversation, value
        try:
            yield
        finally:
            held.conversation, held.text = outer

    def _is_preloaded(self, key: ConversationKey) -> bool:
        conversation = self._preloaded.conversation
        return conversation is not None and conversation == key.as_str()

    def _forget(self, key: ConversationKey) -> bool:
        """Drop a preloaded value of ``key`` before writing it (if the write is
        refused or raises, the stored value is unknown and the next load asks
        Redis); True when there was one, so the caller puts back what it wrote."""
        if not self._is_preloaded(key):
            return False
        self._preloaded.conversation = self._preloaded.text = None
        return True

    def _preload(self, key: ConversationKey, text: str | None) -> None:
        self._preloaded.conversation, self._preloaded.text = key.as_str(), text

    def load(self, key: ConversationKey) -> Snapshot | None:
        if self._is_preloaded(key):
            text = self._preloaded.text
        else:
            text = self._redis.hget(self._key(key), "snapshot")
        return Snapshot.from_json(text) if text else None

    def save(self, key: ConversationKey, snapshot: Snapshot, expected_version: int) -> bool:
        text = _check_write(snapshot, expected_version)
        ttl = self._idle_ttl
        score = ""
        if snapshot.expires_at is not None:
            ttl += max(snapshot.expires_at - snapshot.updated_at, timedelta(0))
            score = str(_epoch_ms(snapshot.expires_at))
        args = [expected_version, snapshot.version, text, _ms(ttl), key.as_str(), score]
        preloaded = self._forget(key)
        saved = bool(self._save(keys=[self._key(key), self._index], args=args))
        if saved and preloaded:
            self._preload(key, text)
        return saved

    def delete(self, key: ConversationKey, expected_version: int) -> bool:
        args = [expected_version, key.as_str()]
        preloaded = self._forget(key)
        deleted = bool(self._delete(keys=[self._key(key), self._index], args=args))
        if deleted and preloaded:
            self._preload(key, None)
        return deleted

    def due(self, now: datetime, limit: int) -> list[ConversationKey]:
        if limit <= 0:
            return []
        members = self._redis.zrangebyscore(self._index, "-inf", _epoch_ms(now), 0, limit)
        if not members:
            return []
        convs = [ConversationKey.parse(m.decode() if isinstance(m, bytes) else m) for m in members]
        alive = self._prune(keys=[self._index, *map(self._key, convs)], args=members)
        kept = {m.decode() if isinstance(m, bytes) else m for m in alive}
        return [conv for conv in convs if conv.as_str() in kept]


def _ms(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() * 1000))


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)

"""Durable, deduplicated ingestion of inbound events (the webhook's only work).

Each conversation has a mailbox (a Redis list) holding its events in arrival
order. A conversation with waiting events is announced once on the ``ready``
stream; a worker that takes the announcement drains that mailbox alone, so events
of one conversation are handled in order while different conversations run in
parallel. Dedupe, append and announce happen in one Lua script: one round trip
per webhook, and a redelivered event (same platform id within the dedupe window)
is dropped before it is stored.

The script is sent with EVALSHA on the calling thread's own connection (see
``Ingestor._call``): it is the one Redis call of a webhook, so redis-py's per-call
pool bookkeeping was a visible share of what an acknowledgement costs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import redis

from bot.events import InboundEvent
from bot.group_commit import GroupCommit
from flows.keys import KeyBuilder
from flows.redis_client import ThreadConnections

DEDUPE_SECONDS = 48 * 3600
GROUP = "workers"

# One encoder for every entry: ``json.dumps(..., ensure_ascii=False)`` builds a new
# one per call. Same output.
_encode_entry = json.JSONEncoder(ensure_ascii=False).encode

_INGEST = """
local ttl = ARGV[1]
local stored = {}
local count = (#KEYS - 2) / 2
for e = 1, count do
  local seen = KEYS[1 + 2 * e]
  local box = KEYS[2 + 2 * e]
  local conv = ARGV[2 * e]
  stored[e] = 0
  if redis.call('SET', seen, '1', 'NX', 'EX', ttl) then
    redis.call('RPUSH', box, ARGV[2 * e + 1])
    if redis.call('SADD', KEYS[2], conv) == 1 then
      redis.call('XADD', KEYS[1], '*', 'c', conv)
    end
    stored[e] = 1
  end
end
return stored
"""


class InboxKeys:
    """Key names of the ingestion structures, all built by the shared KeyBuilder."""

    def __init__(self, keys: KeyBuilder) -> None:
        self.builder = keys
        self.ready = keys.build("inbound:ready")
        self.scheduled = keys.build("inbound:scheduled")
        self.dead = keys.build("inbound:dead")
        self.attempts = keys.build("inbound:attempts")

    def seen(self, event: InboundEvent) -> str:
        return self.builder.build("inbound:seen", f"{event.channel.value}:{event.event_id}")

    def mailbox(self, conversation: str) -> str:
        return self.builder.build("inbound:mailbox", conversation)

    @property
    def mailbox_prefix(self) -> str:
        """What every mailbox key starts with: ``mailbox(c) == mailbox_prefix + c``,
        for a script that learns the conversation inside Redis."""
        return self.builder.head("inbound:mailbox")


class _Ingest:
    __slots__ = ("events", "stored")

    def __init__(self, events: Sequence[InboundEvent]) -> None:
        self.events = events
        self.stored = 0


class Ingestor:
    def __init__(self, client: redis.Redis, keys: KeyBuilder,
                 dedupe_seconds: int = DEDUPE_SECONDS) -> None:
        self._redis = client
        self.client = client
        self.keys = InboxKeys(keys)
        self._ttl = dedupe_seconds
        self._sha = hashlib.sha1(_INGEST.encode("utf-8")).hexdigest()
        self._group: GroupCommit[_Ingest] = GroupCommit(self._store)

    def ensure_group(self) -> None:
        try:
            self._redis.xgroup_create(self.keys.ready, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def ingest(self, events: Sequence[InboundEvent]) -> int:
        """Store events not seen before; returns how many were new. Returns only
        once they are stored in Redis.

        Webhooks that arrive while another thread's call is under way are stored
        together, in the next call (``GroupCommit``): a busy server makes one
        round trip for several webhooks, and each request still answers only
        after its own events are stored."""
        if not events:
            return 0
        job = _Ingest(events)
        self._group.submit(job)
        return job.stored

    def _store(self, jobs: Sequence[_Ingest]) -> None:
        names = self.keys
        keys = [names.ready, names.scheduled]
        args: list[str | int] = [self._ttl]
        for job in jobs:
            for event in job.events:
                conv = event.conversation.as_str()
                keys.append(names.seen(event))
                keys.append(names.mailbox(conv))
                args.append(conv)
                args.append(_encode_entry(event.to_dict()))
        flags = self._call(keys, args)
        start = 0
        for job in jobs:
            end = start + len(job.events)
            job.stored = sum(int(flag) for flag in flags[start:end])
            start = end

    def _call(self, keys: list[str], args: list[str | int]) -> list[int]:
        """Run the script on the calling thread's own connection (``make_redis``
        keeps one per thread: ``flows.redis_client.ThreadConnections``), which skips
        the pool's per-command lending (about a third of the call's CPU).

        A held connection is checked only after it has been idle a while, so a
        ``ConnectionError`` on a thread that had a working connection (Redis
        restarted, or the server dropped it) gets one more try on a new one. That
        is safe because the script dedupes: events stored by a first try that lost
        its answer are not stored twice. A thread's first call is not retried, nor
        a call on a plain pooled client, whose pool checks each connection it lends.
        """
        held = isinstance(self._redis, ThreadConnections) and self._redis.holds_connection()
        try:
            return self._evalsha(keys, args)
        except redis.ConnectionError:
            if not held:
                raise
            return self._evalsha(keys, args)  # redis-py dropped it: this one reconnects

    def _evalsha(self, keys: list[str], args: list[str | int]) -> list[int]:
        """EVALSHA, loading the script first when the server does not know it (a
        restarted or flushed Redis), as redis-py's ``Script`` does. On a
        ``ThreadConnections`` client the call skips redis-py's per-command wrapping
        (``ThreadConnections.evalsha``)."""
        client = self._redis
        try:
            return client.evalsha(self._sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            client.script_load(_INGEST)
            return client.evalsha(self._sha, len(keys), *keys, *args)

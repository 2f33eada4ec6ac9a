"""Durable, deduplicated ingestion of inbound events (the webhook's only work).

Each conversation has a mailbox (a Redis list) holding its events in arrival
order. A conversation with waiting events is announced once on the ``ready``
stream; a worker that takes the announcement drains that mailbox alone, so events
of one conversation are handled in order while different conversations run in
parallel. Dedupe, append and announce happen in one Lua script: one round trip
per webhook, and a redelivered event (same platform id within the dedupe window)
is dropped before it is stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis

from bot.events import InboundEvent
from flows.keys import KeyBuilder

DEDUPE_SECONDS = 48 * 3600
GROUP = "workers"

_INGEST = """
local ttl = ARGV[1]
local stored = 0
local count = (#KEYS - 2) / 2
for e = 1, count do
  local seen = KEYS[1 + 2 * e]
  local box = KEYS[2 + 2 * e]
  local conv = ARGV[2 * e]
  if redis.call('SET', seen, '1', 'NX', 'EX', ttl) then
    redis.call('RPUSH', box, ARGV[2 * e + 1])
    if redis.call('SADD', KEYS[2], conv) == 1 then
      redis.call('XADD', KEYS[1], '*', 'c', conv)
    end
    stored = stored + 1
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


class Ingestor:
    def __init__(self, client: redis.Redis, keys: KeyBuilder,
                 dedupe_seconds: int = DEDUPE_SECONDS) -> None:
        self._redis = client
        self.client = client
        self.keys = InboxKeys(keys)
        self._ttl = dedupe_seconds
        self._script = client.register_script(_INGEST)

    def ensure_group(self) -> None:
        try:
            self._redis.xgroup_create(self.keys.ready, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def ingest(self, events: Sequence[InboundEvent]) -> int:
        """Store events not seen before; returns how many were new."""
        if not events:
            return 0
        keys = [self.keys.ready, self.keys.scheduled]
        args: list[str | int] = [self._ttl]
        for event in events:
            conv = event.conversation.as_str()
            keys += [self.keys.seen(event), self.keys.mailbox(conv)]
            args += [conv, json.dumps(event.to_dict(), ensure_ascii=False)]
        return int(self._script(keys=keys, args=args))

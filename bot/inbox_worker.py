"""Workers that drain conversation mailboxes.

A worker takes one announcement from the ``ready`` stream (consumer group, so an
announcement taken by a worker that died is reclaimed by another after
``claim_idle``), takes the conversation lock, and handles that conversation's
events one by one in arrival order. An event is removed from the mailbox only
after it was handled, so a crash means it is handled again by the next worker:
the handler must be idempotent on the event id (the dispatcher records handled
events in SQL). An event that fails ``max_attempts`` times goes to a dead-letter
list instead of blocking its conversation forever.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import redis

from bot.events import InboundEvent
from bot.ingest import GROUP, Ingestor
from commerce.identity import ConversationKey
from flows.locks import LockTimeout, RedisConversationLocks, ms

log = logging.getLogger("chatcart.worker")

# Take the conversation lock (KEYS[1]) with the token ARGV[1] for ARGV[2] ms and, if
# taken, look at the first event of the mailbox (KEYS[2]). An empty mailbox is
# finished at once: the conversation (ARGV[3]) leaves the scheduled set (KEYS[3]), so
# the next event ingested announces it again. Returns {0} when the lock is held by
# another worker, {1} when it was taken and the mailbox is empty, {1, event} otherwise.
_TAKE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0}
end
local first = redis.call('LINDEX', KEYS[2], 0)
if first then
  return {1, first}
end
redis.call('SREM', KEYS[3], ARGV[3])
return {1}
"""

# After an event was handled: forget its failed attempts (ARGV[2], if any), take it
# off the mailbox and return the next one, restarting the lease (KEYS[4], ours while
# it holds our token ARGV[4]) for ARGV[5] ms. An empty mailbox is finished at once (the
# conversation leaves the scheduled set) and nil comes back. With ARGV[3] == "last"
# the batch limit was reached: the lease is restarted and the conversation is
# announced again on the ready stream (KEYS[5]) so the rest of a long mailbox waits
# behind other conversations; nil comes back.
_NEXT = """
if ARGV[2] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[2])
end
redis.call('LPOP', KEYS[1])
local following = false
if ARGV[3] ~= 'last' then
  following = redis.call('LINDEX', KEYS[1], 0)
  if not following then
    redis.call('SREM', KEYS[2], ARGV[1])
    return false
  end
end
if redis.call('GET', KEYS[4]) == ARGV[4] then
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
end
if ARGV[3] == 'last' then
  redis.call('XADD', KEYS[5], '*', 'c', ARGV[1])
end
return following
"""

# The conversation is done: free its lock (KEYS[1]) if it still holds our token
# ARGV[1], then acknowledge and delete the announcement ARGV[2] on the stream KEYS[2].
_DONE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
"""

Handler = Callable[[InboundEvent], None]


class InboxWorker:
    def __init__(
        self,
        client: redis.Redis,
        ingestor: Ingestor,
        locks: RedisConversationLocks,
        handler: Handler,
        *,
        consumer: str,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        max_batch: int = 50,
        max_attempts: int = 3,
        lock_wait: float = 10.0,
        lease_seconds: float | None = None,
    ) -> None:
        self._redis = client
        self._keys = ingestor.keys
        self._locks = locks
        self._handler = handler
        self.consumer = consumer
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._max_batch = max_batch
        self._max_attempts = max_attempts
        self._lock_wait = lock_wait
        self._lease_seconds = lease_seconds
        self._take = client.register_script(_TAKE)
        self._next = client.register_script(_NEXT)
        self._done = client.register_script(_DONE)
        ingestor.ensure_group()

    def run_once(self) -> int:
        """Handle at most one announced conversation; returns events handled."""
        entries = self._redis.xreadgroup(
            GROUP, self.consumer, {self._keys.ready: ">"}, count=1, block=self._block_ms
        )
        batch = entries[0][1] if entries else []
        if not batch:
            claimed = self._redis.xautoclaim(
                self._keys.ready, GROUP, self.consumer, self._claim_idle_ms, "0-0", count=1
            )
            batch = claimed[1] if claimed else []
        handled = 0
        for entry_id, fields in batch:
            if not fields:  # deleted while pending
                self._ack(entry_id)
                continue
            handled += self._drain(entry_id, fields[b"c"].decode())
        return handled

    def _ack(self, entry_id: bytes) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.xack(self._keys.ready, GROUP, entry_id)
        pipe.xdel(self._keys.ready, entry_id)
        pipe.execute()

    def _drain(self, entry_id: bytes, conv: str) -> int:
        """Handle the conversation's events in order under its lock. Redis is asked
        once to take the lock and see the first event, once per event to move on
        (which also restarts the lease), and once to free the lock and acknowledge."""
        key = ConversationKey.parse(conv)
        mailbox = self._keys.mailbox(conv)
        lock = self._locks.name(key)
        lease_seconds = self._lease_seconds or self._locks.lease_seconds

        def take(token: str, seconds: float) -> list | None:
            taken = self._take(keys=[lock, mailbox, self._keys.scheduled],
                               args=[token, ms(seconds), conv])
            return taken if taken[0] else None

        try:
            lease, taken = self._locks.wait_for(key, take, self._lock_wait, lease_seconds)
        except LockTimeout:
            log.warning("conversation busy; leaving it for later", extra={"conversation": conv})
            return 0
        raw = taken[1] if len(taken) > 1 else None
        handled = 0
        keys = [mailbox, self._keys.scheduled, self._keys.attempts, lock, self._keys.ready]
        try:
            while raw is not None:
                cleared = self._handle_one(raw)
                handled += 1
                last = handled >= self._max_batch
                raw = self._next(keys=keys, args=[conv, cleared, "last" if last else "",
                                                  lease.token, ms(lease_seconds)])
        except BaseException:
            lease.release()  # the announcement stays pending: reclaimed after claim_idle
            raise
        self._done(keys=[lock, self._keys.ready], args=[lease.token, entry_id, GROUP])
        return handled

    def _handle_one(self, raw: bytes) -> str:
        """Handle one mailbox entry; returns the event id whose attempts to clear
        ("" when there is nothing left to clear)."""
        try:
            event = InboundEvent.from_dict(json.loads(raw))
        except ValueError:
            log.error("unreadable inbound entry moved to dead letters")
            self._redis.rpush(self._keys.dead, raw)
            return ""
        try:
            self._handler(event)
            return event.event_id
        except Exception:
            attempts = self._redis.hincrby(self._keys.attempts, event.event_id, 1)
            log.exception("handling event failed", extra={"event_id": event.event_id,
                                                          "attempt": attempts})
            if attempts < self._max_attempts:
                raise
            self._redis.hdel(self._keys.attempts, event.event_id)
            self._redis.rpush(self._keys.dead, raw)
            return ""


class WorkerPool:
    """N worker threads sharing one handler; a background service of the runtime."""

    name = "inbox-workers"

    def __init__(self, make_worker: Callable[[int], InboxWorker], threads: int = 4) -> None:
        self._make_worker = make_worker
        self._count = threads
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        for n in range(self._count):
            worker = self._make_worker(n)
            thread = threading.Thread(target=self._loop, args=(worker,), daemon=True,
                                      name=f"inbox-worker-{n}")
            thread.start()
            self._threads.append(thread)

    def _loop(self, worker: InboxWorker) -> None:
        while not self._stop.is_set():
            try:
                worker.run_once()
            except redis.ConnectionError:
                log.warning("redis unavailable; retrying")
                self._stop.wait(1.0)
            except Exception:  # noqa: BLE001 - a failed event is retried via the stream
                log.exception("worker iteration failed")
                self._stop.wait(0.5)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

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
import secrets
import threading
from collections.abc import Callable

import redis

from bot.events import InboundEvent
from bot.ingest import GROUP, Ingestor
from commerce.identity import ConversationKey
from flows.locks import LOCK_LUA, Lease, LockTimeout, RedisConversationLocks, ms

log = logging.getLogger("chatcart.worker")

# The Lua below shares two functions. take(): take the conversation's lock with our
# token for a lease and look at the first event of its mailbox; an empty mailbox is
# finished at once (the conversation leaves the scheduled set, so the next event
# ingested announces it again; the lock is freed and the announcement acknowledged).
# Returns {0} when another worker holds the lock, {1} when there was nothing to do,
# {1, event} otherwise. finish(): free the lock if it still holds our token, and
# acknowledge and delete the announcement.
_FUNCTIONS = LOCK_LUA + """
local function finish(lock, token, ready, group, entry)
  lock_free(lock, token)
  redis.call('XACK', ready, group, entry)
  redis.call('XDEL', ready, entry)
end
local function take(lock, mailbox, scheduled, token, lease, conv, ready, group, entry)
  if not lock_take(lock, token, lease) then
    return {0}
  end
  local first = redis.call('LINDEX', mailbox, 0)
  if first then
    return {1, first}
  end
  redis.call('SREM', scheduled, conv)
  finish(lock, token, ready, group, entry)
  return {1}
end
"""

# take() for an announcement already read. KEYS: lock, mailbox, scheduled, ready.
# ARGV: token, lease ms, conversation, group, announcement id.
_TAKE = _FUNCTIONS + """
return take(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], KEYS[4], ARGV[4], ARGV[5])
"""

# Read the next announcement without waiting and take() its conversation, in one
# round trip. KEYS: ready, scheduled. ARGV: group, consumer, token, lease ms, and
# the lock and mailbox key prefixes (a key is its prefix followed by the
# conversation). Returns false when nothing is announced (the caller then waits on
# the stream), else {announcement id, conversation, take()'s answer...}.
_CLAIM = _FUNCTIONS + """
local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1,
                        'STREAMS', KEYS[1], '>')
if not read then
  return false
end
local entry = read[1][2][1]
local conv = entry[2][2]
local taken = take(ARGV[5] .. conv, ARGV[6] .. conv, KEYS[2], ARGV[3], ARGV[4], conv,
                   KEYS[1], ARGV[1], entry[1])
return {entry[1], conv, taken[1], taken[2]}
"""

# After an event was handled: forget its failed attempts (ARGV[2], if any), take it
# off the mailbox and return the next one, restarting our lease. When the mailbox
# is empty, or with ARGV[3] == "last" (the batch limit: the conversation is
# announced again so the rest of a long mailbox waits behind other
# conversations), the conversation is finished in the same call: nil comes back.
# KEYS: mailbox, scheduled, attempts, lock, ready. ARGV: conversation, event id,
# last, token, lease ms, group, announcement id.
_NEXT = _FUNCTIONS + """
if ARGV[2] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[2])
end
redis.call('LPOP', KEYS[1])
if ARGV[3] ~= 'last' then
  local following = redis.call('LINDEX', KEYS[1], 0)
  if following then
    lock_extend(KEYS[4], ARGV[4], ARGV[5])
    return following
  end
  redis.call('SREM', KEYS[2], ARGV[1])
else
  redis.call('XADD', KEYS[5], '*', 'c', ARGV[1])
end
finish(KEYS[4], ARGV[4], KEYS[5], ARGV[6], ARGV[7])
return false
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
        self._lease = lease_seconds or locks.lease_seconds
        self._lock_prefix = locks.name_prefix()
        self._mailbox_prefix = self._keys.mailbox_prefix
        self._claim = client.register_script(_CLAIM)
        self._take = client.register_script(_TAKE)
        self._next = client.register_script(_NEXT)
        ingestor.ensure_group()

    def run_once(self) -> int:
        """Handle at most one announced conversation; returns events handled.

        Busy: one script reads an announcement and takes its conversation's lock
        with the first event. Idle: a blocking read of the stream waits for the
        next announcement, then an abandoned one is reclaimed if any."""
        token = secrets.token_hex(16)
        claimed = self._claim(keys=[self._keys.ready, self._keys.scheduled], args=[
            GROUP, self.consumer, token, ms(self._lease), self._lock_prefix,
            self._mailbox_prefix])
        if claimed:
            entry_id, conv, took = claimed[0], claimed[1].decode(), claimed[2]
            if not took:  # another worker holds the lock: wait for it as below
                return self._drain(entry_id, conv)
            lease = Lease(self._locks, ConversationKey.parse(conv), token)
            return self._run(entry_id, conv, lease, claimed[3] if len(claimed) > 3 else None)
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
        """Wait for the conversation's lock (taking it with the first event, one
        script per try), then handle its events."""
        key = ConversationKey.parse(conv)
        keys = [self._locks.name(key), self._keys.mailbox(conv), self._keys.scheduled,
                self._keys.ready]

        def take(token: str, seconds: float) -> list | None:
            taken = self._take(keys=keys, args=[token, ms(seconds), conv, GROUP, entry_id])
            return taken if taken[0] else None

        try:
            lease, taken = self._locks.wait_for(key, take, self._lock_wait, self._lease)
        except LockTimeout:
            log.warning("conversation busy; leaving it for later", extra={"conversation": conv})
            return 0
        return self._run(entry_id, conv, lease, taken[1] if len(taken) > 1 else None)

    def _run(self, entry_id: bytes, conv: str, lease: Lease, raw: bytes | None) -> int:
        """Handle the conversation's events in order, starting with ``raw``, under
        ``lease``. Each step is one script: it takes the handled event off, restarts
        the lease and returns the next event, or finishes the conversation (frees
        the lock, acknowledges the announcement). ``raw`` None: already finished."""
        handled = 0
        keys = [self._keys.mailbox(conv), self._keys.scheduled, self._keys.attempts,
                self._locks.name(lease.key), self._keys.ready]
        try:
            while raw is not None:
                cleared = self._handle_one(raw)
                handled += 1
                last = handled >= self._max_batch
                raw = self._next(keys=keys, args=[conv, cleared, "last" if last else "",
                                                  lease.token, ms(self._lease), GROUP,
                                                  entry_id])
        except BaseException:
            lease.release()  # the announcement stays pending: reclaimed after claim_idle
            raise
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

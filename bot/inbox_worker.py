"""Workers that drain conversation mailboxes.

A worker takes one announcement from the ``ready`` stream (consumer group, so an
announcement taken by a worker that died is reclaimed by another after
``claim_idle``), takes the conversation lock, and handles that conversation's
events one by one in arrival order. An event is removed from the mailbox only
after it was handled, so a crash means it is handled again by the next worker:
the handler must be idempotent on the event id (the dispatcher records handled
events in SQL). An event that fails ``max_attempts`` times goes to a dead-letter
list instead of blocking its conversation forever.

Round trips: the script that hands over an event also hands over the
conversation's prefetched value (``Prefetch``: the waiting flow's snapshot), and
the script that finishes a conversation also claims the next announced one, so a
busy worker spends one script per event. The idle workers of a process share one
blocking read (``SharedWakeup``), sent with the script that takes what it
delivers for all of them, so a wake-up is one round trip however many it wakes.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

import redis

from bot.events import InboundEvent
from bot.ingest import GROUP, Ingestor
from bot.shared_wakeup import Handed, SharedWakeup
from commerce.identity import ConversationKey
from flows.locks import LOCK_LUA, Lease, LockTimeout, RedisConversationLocks, ms
from flows.redis_client import ThreadConnections

log = logging.getLogger("chatcart.worker")

# The Lua below shares four functions. take(): take the conversation's lock with our
# token for a lease and look at the first event of its mailbox; an empty mailbox is
# finished at once (the conversation leaves the scheduled set, so the next event
# ingested announces it again; the lock is freed and the announcement acknowledged).
# Returns {0, false, false} when another worker holds the lock, {1, false, false}
# when there was nothing to do, {1, event, prefetched} otherwise. finish(): free the
# lock if it still holds our token, and acknowledge and delete the announcement.
# peek(): the prefetched value of a conversation (see Prefetch; false when the worker
# has none or the hash field is missing), read while its lock is ours. claim(): read
# the next announcement without waiting and take() its conversation; false when
# nothing is announced, else {announcement id, conversation, take()'s three answers}.
_FUNCTIONS = LOCK_LUA + """
local function finish(lock, token, ready, group, entry)
  lock_free(lock, token)
  redis.call('XACK', ready, group, entry)
  redis.call('XDEL', ready, entry)
end
local function peek(prefix, field, conv)
  if prefix == '' then
    return false
  end
  return redis.call('HGET', prefix .. conv, field)
end
local function take(lock, mailbox, scheduled, token, lease, conv, ready, group, entry,
                    prefetch, field)
  if not lock_take(lock, token, lease) then
    return {0, false, false}
  end
  local first = redis.call('LINDEX', mailbox, 0)
  if first then
    return {1, first, peek(prefetch, field, conv)}
  end
  redis.call('SREM', scheduled, conv)
  finish(lock, token, ready, group, entry)
  return {1, false, false}
end
local function claim(ready, scheduled, group, consumer, token, lease, lock_prefix,
                     mailbox_prefix, prefetch, field)
  local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1,
                          'STREAMS', ready, '>')
  if not read then
    return false
  end
  local entry = read[1][2][1]
  local conv = entry[2][2]
  local taken = take(lock_prefix .. conv, mailbox_prefix .. conv, scheduled, token, lease,
                     conv, ready, group, entry[1], prefetch, field)
  return {entry[1], conv, taken[1], taken[2], taken[3]}
end
"""

# take() for an announcement already read. KEYS: lock, mailbox, scheduled, ready.
# ARGV: token, lease ms, conversation, group, announcement id, prefetch prefix
# ("" for none), prefetch field.
_TAKE = _FUNCTIONS + """
return take(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], KEYS[4], ARGV[4], ARGV[5],
            ARGV[6], ARGV[7])
"""

# claim() in one round trip. KEYS: ready, scheduled. ARGV: group, consumer, token,
# lease ms, the lock and mailbox key prefixes (a key is its prefix followed by the
# conversation), prefetch prefix, prefetch field. The caller waits on the stream
# when nothing is announced.
_CLAIM = _FUNCTIONS + """
return claim(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
             ARGV[7], ARGV[8])
"""

# After an event was handled: forget its failed attempts (ARGV[2], if any), take it
# off the mailbox and return {next event, prefetched}, restarting our lease. When
# the mailbox is empty (the conversation leaves the scheduled set), or with ARGV[3]
# == "last" and more waiting (the batch limit: the conversation is announced again
# so the rest of a long mailbox waits behind the conversations announced before),
# the conversation is finished in the same call; then, with a
# consumer in ARGV[10], the next announcement is claim()ed with the token ARGV[11]
# and claim()'s answer comes back (false when nothing is announced, or without a
# consumer). KEYS: mailbox, scheduled, attempts, lock, ready. ARGV: conversation,
# event id, last, token, lease ms, group, announcement id, prefetch prefix, prefetch
# field, consumer ("" not to claim), next token, lock prefix, mailbox prefix.
_NEXT = _FUNCTIONS + """
if ARGV[2] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[2])
end
redis.call('LPOP', KEYS[1])
local following = redis.call('LINDEX', KEYS[1], 0)
if not following then
  redis.call('SREM', KEYS[2], ARGV[1])
elseif ARGV[3] ~= 'last' then
  lock_extend(KEYS[4], ARGV[4], ARGV[5])
  return {following, peek(ARGV[8], ARGV[9], ARGV[1])}
else
  redis.call('XADD', KEYS[5], '*', 'c', ARGV[1])
end
finish(KEYS[4], ARGV[4], KEYS[5], ARGV[6], ARGV[7])
if ARGV[10] == '' then
  return false
end
return claim(KEYS[5], KEYS[2], ARGV[6], ARGV[10], ARGV[11], ARGV[5], ARGV[12], ARGV[13],
             ARGV[8], ARGV[9])
"""

# After a blocking XREADGROUP on the same connection (sent together with it): take()
# the announcements that read delivered to this consumer, i.e. its pending
# announcements with an id above ARGV[8], the highest the worker had received before
# (announcements are delivered in id order, and an older one left pending, say for
# a busy lock, must wait for its reclaim as before), each with the next of the
# tokens. Returns a list of claim()'s answers, empty when the read delivered
# nothing; an announcement deleted meanwhile is acknowledged and skipped. KEYS:
# ready, scheduled. ARGV: group, consumer, lease ms, lock prefix, mailbox prefix,
# prefetch prefix, prefetch field, the highest announcement id received ("0-0" for
# none), then one token per announcement the read may deliver.
_WOKEN = _FUNCTIONS + """
local tokens = #ARGV - 8
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[8], '+', tokens + 1, ARGV[2])
local claims = {}
for _, item in ipairs(pending) do
  local id = item[1]
  if id ~= ARGV[8] and #claims < tokens then
    local found = redis.call('XRANGE', KEYS[1], id, id)[1]
    if found and found[2][2] then
      local conv = found[2][2]
      local taken = take(ARGV[4] .. conv, ARGV[5] .. conv, KEYS[2], ARGV[9 + #claims],
                         ARGV[3], conv, KEYS[1], ARGV[1], id, ARGV[6], ARGV[7])
      claims[#claims + 1] = {id, conv, taken[1], taken[2], taken[3]}
    else
      redis.call('XACK', KEYS[1], ARGV[1], id)
    end
  end
end
return claims
"""

Handler = Callable[[InboundEvent], None]

# claim()'s answer: [announcement id, conversation, taken (0/1), first event or
# None, prefetched value or None].
_Claimed = list


class Prefetch(Protocol):
    """A per-conversation value the worker reads for the handler in the round trip
    that hands it each event: the hash field ``prefetch_field`` of the key
    ``prefetch_prefix`` + conversation, read while the worker holds the
    conversation's lock. The handler runs inside ``preloaded(conversation, value)``
    (value None when the field is missing), so whatever it would have read from
    Redis is already there. Only sound for values written under that lock."""

    prefetch_prefix: str
    prefetch_field: str

    def preloaded(self, conversation: str, value: bytes | None
                  ) -> AbstractContextManager[object]: ...


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
        max_conversations: int = 64,
        lock_wait: float = 10.0,
        lease_seconds: float | None = None,
        prefetch: Prefetch | None = None,
        wakeup: SharedWakeup | None = None,
    ) -> None:
        if max_conversations < 1:
            raise ValueError("max_conversations must be at least 1")
        self._redis = client
        self._keys = ingestor.keys
        self._locks = locks
        self._handler = handler
        self.consumer = consumer
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._max_batch = max_batch
        self._max_attempts = max_attempts
        self._max_conversations = max_conversations
        self._lock_wait = lock_wait
        self._lease = lease_seconds or locks.lease_seconds
        self._lease_ms = ms(self._lease)
        self._prefetch = prefetch
        self._peek = ([prefetch.prefetch_prefix, prefetch.prefetch_field] if prefetch
                      else ["", ""])
        self._lock_prefix = locks.name_prefix()
        self._mailbox_prefix = self._keys.mailbox_prefix
        self._claim = client.register_script(_CLAIM)
        self._take = client.register_script(_TAKE)
        self._next = client.register_script(_NEXT)
        self._woken = client.register_script(_WOKEN)
        #: Shared with the process's other workers (``web.chat_wiring.worker_pool``
        #: gives its pool one); a worker alone has its own and reads one
        #: announcement at a time.
        self._wakeup = wakeup or SharedWakeup()
        #: The highest announcement id this worker has received (see _WOKEN).
        self._received = "0-0"
        # The last script that looked for an announcement found none: the next
        # run_once goes straight to the blocking read, which returns at once anyway
        # if one came meanwhile, instead of asking again without waiting.
        self._none_announced = False
        ingestor.ensure_group()

    def run_once(self, stop: Callable[[], bool] | None = None) -> int:
        """Handle announced conversations, at most ``max_conversations`` of them and
        none more once ``stop()`` is true; returns events handled.

        Busy: one script reads an announcement and takes its conversation's lock
        with the first event; the step that finishes a conversation takes the next
        announced one in the same script. Idle: the process's ``SharedWakeup``
        either hands over an announcement its reader took, or makes this worker the
        reader: a blocking read of the stream for as many announcements as threads
        wait, sent together with their takes (``_wait_and_take``). A reader whose
        read delivered nothing reclaims an abandoned announcement, if any."""
        spare = self._wakeup.spare()
        if spare is not None:
            return self._serve(spare.claimed, spare.token, stop)
        token = secrets.token_hex(16)
        if not self._none_announced:
            claimed = self._claim_now(token)
            if claimed:
                return self._serve(claimed, token, stop)
        handled = 0
        if isinstance(self._redis, ThreadConnections):
            woke = self._wakeup.wait(self._wait_and_take, self._block_ms / 1000)
            if woke.handed is not None:
                self._none_announced = False
                handled = self._serve(woke.handed.claimed, woke.handed.token, stop)
            if not woke.was_reader:
                return handled
            # Normally the read's entries were all taken; anything else it
            # delivered is served below as without the take.
            batch = woke.entries
            if not batch and woke.handed is not None:
                return handled
        else:
            entries = self._redis.xreadgroup(
                GROUP, self.consumer, {self._keys.ready: ">"}, count=1,
                block=self._block_ms)
            batch = entries[0][1] if entries else []
        if not batch:
            claimed = self._redis.xautoclaim(
                self._keys.ready, GROUP, self.consumer, self._claim_idle_ms, "0-0", count=1
            )
            batch = claimed[1] if claimed else []
        if not batch:
            return handled
        self._none_announced = False  # until a script looks again
        token = secrets.token_hex(16)
        for entry_id, fields in batch:
            if not fields:  # deleted while pending
                self._ack(entry_id)
                continue
            handled += self._serve([entry_id, fields[b"c"], 0, None, None], token, stop)
        return handled

    def _wait_and_take(self, tokens: list[str]) -> tuple[list, list[Handed]]:
        """The blocking read for up to ``len(tokens)`` announcements and the take of
        what it delivered, sent together on this thread's connection: idle workers
        woken by announcements start on them after one round trip, not two (the
        read, then ``_drain``'s take), and one round trip takes as many as had come.
        Returns the entries the read delivered that were not taken (as redis-py's
        ``xreadgroup`` gives a stream's entries: normally none) and the takes, each
        with the token its lock was taken with.

        Only on a client that keeps a connection per thread (``ThreadConnections``,
        what ``make_redis`` builds): a pipeline would borrow a pool connection for
        as long as the read blocks, from a pool the threads already hold."""
        names = self._keys
        read = ("XREADGROUP", "GROUP", GROUP, self.consumer, "COUNT", len(tokens),
                "BLOCK", self._block_ms, "STREAMS", names.ready, ">")
        take_args = [GROUP, self.consumer, self._lease_ms, self._lock_prefix,
                     self._mailbox_prefix, *self._peek, self._received, *tokens]
        take = ("EVALSHA", self._woken.sha, 2, names.ready, names.scheduled, *take_args)
        entries, claims = self._redis.send_together(read, take)  # type: ignore[attr-defined]
        if isinstance(entries, Exception):
            raise entries
        if isinstance(claims, redis.exceptions.NoScriptError):  # a flushed or new Redis
            claims = self._woken(keys=[names.ready, names.scheduled], args=take_args)
        elif isinstance(claims, Exception):
            raise claims
        claims = claims or []
        taken = {claim[0] for claim in claims}
        left = []
        for _stream, delivered in entries or []:
            for entry_id, fields in delivered:
                self._note_received(entry_id)
                if entry_id not in taken:  # flat field lists, as redis-py would pair them
                    left.append((entry_id, dict(zip(fields[::2], fields[1::2], strict=True))
                                 if fields else None))
        return left, [Handed(claim, token) for claim, token in zip(claims, tokens,
                                                                    strict=False)]

    def _claim_now(self, token: str) -> _Claimed | None:
        claimed = self._claim(keys=[self._keys.ready, self._keys.scheduled], args=[
            GROUP, self.consumer, token, self._lease_ms, self._lock_prefix,
            self._mailbox_prefix, *self._peek])
        self._none_announced = not claimed
        return claimed

    def _serve(self, claimed: _Claimed | None, token: str,
               stop: Callable[[], bool] | None) -> int:
        """Handle the claimed conversation, then the ones claimed after it (each by
        the script that finished the one before), up to ``max_conversations``."""
        handled = served = 0

        def may_claim() -> bool:
            return served < self._max_conversations and not (stop is not None and stop())

        while claimed:
            served += 1
            entry_id, conv = claimed[0], claimed[1].decode()
            self._note_received(entry_id)
            if claimed[2]:
                lease = Lease(self._locks, ConversationKey.parse(conv), token)
                raw, value = claimed[3], claimed[4]
            else:  # another worker holds the lock: wait for it
                drained = self._drain(entry_id, conv)
                if drained is None:
                    return handled
                lease, raw, value = drained
            if raw is None:  # nothing waited: take() finished the conversation at once
                token = secrets.token_hex(16)
                claimed = self._claim_now(token) if may_claim() else None
                continue
            count, claimed, token = self._run(entry_id, conv, lease, raw, value, may_claim)
            handled += count
        return handled

    def _note_received(self, entry_id: bytes | str) -> None:
        text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        if _stream_id(text) > _stream_id(self._received):
            self._received = text

    def _ack(self, entry_id: bytes) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.xack(self._keys.ready, GROUP, entry_id)
        pipe.xdel(self._keys.ready, entry_id)
        pipe.execute()

    def _drain(self, entry_id: bytes, conv: str
               ) -> tuple[Lease, bytes | None, bytes | None] | None:
        """Wait for the conversation's lock, taking it with the first event and its
        prefetched value (one script per try); None when it stayed busy (the
        announcement stays pending and is reclaimed later)."""
        key = ConversationKey.parse(conv)
        keys = [self._locks.name(key), self._keys.mailbox(conv), self._keys.scheduled,
                self._keys.ready]

        def take(token: str, seconds: float) -> list | None:
            taken = self._take(keys=keys, args=[token, ms(seconds), conv, GROUP, entry_id,
                                                *self._peek])
            return taken if taken[0] else None

        try:
            lease, taken = self._locks.wait_for(key, take, self._lock_wait, self._lease)
        except LockTimeout:
            log.warning("conversation busy; leaving it for later", extra={"conversation": conv})
            return None
        return lease, taken[1], taken[2]

    def _run(self, entry_id: bytes, conv: str, lease: Lease, raw: bytes | None,
             value: bytes | None, may_claim: Callable[[], bool]
             ) -> tuple[int, _Claimed | None, str]:
        """Handle the conversation's events in order, starting with ``raw`` (and the
        prefetched ``value``), under ``lease``. Each step is one script: it takes the
        handled event off, restarts the lease and returns the next event, or
        finishes the conversation (frees the lock, acknowledges the announcement)
        and, if ``may_claim()``, claims the next announced conversation with a new
        token. Returns (events handled, that claim or None, its token)."""
        handled = 0
        keys = [self._keys.mailbox(conv), self._keys.scheduled, self._keys.attempts,
                self._locks.name(lease.key), self._keys.ready]
        token = secrets.token_hex(16)
        try:
            while raw is not None:
                cleared = self._handle_one(conv, raw, value)
                handled += 1
                last = handled >= self._max_batch
                consumer = self.consumer if may_claim() else ""
                reply = self._next(keys=keys, args=[
                    conv, cleared, "last" if last else "", lease.token, self._lease_ms,
                    GROUP, entry_id, *self._peek, consumer, token, self._lock_prefix,
                    self._mailbox_prefix])
                if reply and len(reply) == 2:  # the same conversation's next event
                    raw, value = reply
                    continue
                self._none_announced = bool(consumer) and not reply
                return handled, reply or None, token
        except BaseException:
            lease.release()  # the announcement stays pending: reclaimed after claim_idle
            raise
        return handled, None, token

    def _handle_one(self, conv: str, raw: bytes, value: bytes | None) -> str:
        """Handle one mailbox entry; returns the event id whose attempts to clear
        ("" when there is nothing left to clear)."""
        try:
            event = InboundEvent.from_dict(json.loads(raw))
        except ValueError:
            log.error("unreadable inbound entry moved to dead letters")
            self._redis.rpush(self._keys.dead, raw)
            return ""
        try:
            if self._prefetch is None:
                self._handler(event)
            else:
                with self._prefetch.preloaded(conv, value):
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
                worker.run_once(self._stop.is_set)
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


def _stream_id(text: str) -> tuple[int, int]:
    """A stream entry id (``<ms>-<seq>``) as numbers, for comparing."""
    ms_part, _, seq = text.partition("-")
    return int(ms_part), int(seq or 0)

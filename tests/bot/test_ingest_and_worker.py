"""Ingestion and mailbox workers on a real Redis, with a recording handler."""

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import redis

from bot.events import EventKind, InboundEvent
from bot.inbox_worker import _CLAIM, _NEXT, _TAKE, InboxWorker
from bot.ingest import Ingestor
from commerce.identity import Channel
from flows.keys import KeyBuilder
from flows.locks import RedisConversationLocks
from flows.snapshots import RedisSnapshotStore, Snapshot


def event(user: str, n: int, event_id: str | None = None) -> InboundEvent:
    return InboundEvent(channel=Channel.LINE, account="main", user_id=user,
                        kind=EventKind.TEXT, event_id=event_id or f"{user}-{n}",
                        timestamp=datetime(2026, 11, 23, tzinfo=timezone.utc), text=str(n))


@pytest.fixture
def parts(redis_url):
    client = redis.Redis.from_url(redis_url)
    keys = KeyBuilder("test")
    return client, keys, Ingestor(client, keys), RedisConversationLocks(client, keys)


def make_worker(parts, handler, name="w1", **kw):
    client, _keys, ingestor, locks = parts
    return InboxWorker(client, ingestor, locks, handler, consumer=name, block_ms=10, **kw)



@contextmanager
def locked_for(locks, conversation, seconds: float):  # noqa: ANN001
    """Another worker holds ``conversation``'s lock, and frees it after ``seconds``."""
    lease = locks.acquire(conversation)
    timer = threading.Timer(seconds, lease.release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def test_duplicates_are_dropped_and_one_announcement_per_conversation(parts):
    client, _keys, ingestor, _locks = parts
    assert ingestor.ingest([event("U1", 1), event("U1", 2), event("U2", 1)]) == 3
    assert ingestor.ingest([event("U1", 1)]) == 0
    assert client.xlen(ingestor.keys.ready) == 2
    assert client.llen(ingestor.keys.mailbox("line:main:U1")) == 2


def test_worker_handles_a_conversation_in_order_then_releases_it(parts):
    _client, _keys, ingestor, _locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.text))
    ingestor.ingest([event("U1", n) for n in range(5)])
    assert worker.run_once() == 5
    assert seen == ["0", "1", "2", "3", "4"]
    ingestor.ingest([event("U1", 5)])
    assert worker.run_once() == 1
    assert seen[-1] == "5"
    assert worker.run_once() == 0


def test_events_arriving_during_a_drain_are_not_stranded(parts):
    _client, _keys, ingestor, _locks = parts
    seen: list[str] = []

    def handler(e):
        seen.append(e.text)
        if e.text == "0":
            ingestor.ingest([event("U1", 1)])

    worker = make_worker(parts, handler)
    ingestor.ingest([event("U1", 0)])
    worker.run_once()
    worker.run_once()
    assert seen == ["0", "1"]


def test_a_failing_event_is_retried_then_dead_lettered(parts):
    client, _keys, ingestor, _locks = parts
    calls: list[str] = []

    def handler(e):
        calls.append(e.text)
        if e.text == "bad":
            raise RuntimeError("boom")

    worker = make_worker(parts, handler, claim_idle_ms=0, max_attempts=2)
    bad = InboundEvent(channel=Channel.LINE, account="main", user_id="U1", kind=EventKind.TEXT,
                       event_id="bad", timestamp=datetime.now(timezone.utc), text="bad")
    ingestor.ingest([bad, event("U1", 1)])
    with pytest.raises(RuntimeError):
        worker.run_once()
    assert worker.run_once() == 2  # reclaimed: bad fails again -> dead letter, then 1
    assert calls == ["bad", "bad", "1"]
    assert client.llen(ingestor.keys.dead) == 1


def test_an_abandoned_announcement_is_reclaimed_by_another_worker(parts):
    client, _keys, ingestor, _locks = parts
    ingestor.ensure_group()
    ingestor.ingest([event("U1", 1)])
    # worker A takes the announcement and dies before handling anything
    client.xreadgroup("workers", "dead-worker", {ingestor.keys.ready: ">"}, count=1)
    seen: list[str] = []
    survivor = make_worker(parts, lambda e: seen.append(e.text), "w2", claim_idle_ms=0)
    assert survivor.run_once() == 1
    assert seen == ["1"]


def test_parallel_workers_keep_each_conversation_in_order(parts):
    _client, _keys, ingestor, _locks = parts
    seen: dict[str, list[int]] = {}
    lock = threading.Lock()

    def handler(e):
        with lock:
            seen.setdefault(e.user_id, []).append(int(e.text))

    users = [f"U{n}" for n in range(10)]
    workers = [make_worker(parts, handler, f"w{n}") for n in range(4)]
    stop = threading.Event()

    def loop(w):
        while not stop.is_set():
            w.run_once()

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for n in range(20):
        ingestor.ingest([event(u, n) for u in users])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sum(map(len, seen.values())) < 200:
        time.sleep(0.02)
    stop.set()
    for t in threads:
        t.join(5)
    assert {u: seen.get(u) for u in users} == {u: list(range(20)) for u in users}


def test_a_long_mailbox_yields_after_the_batch_limit_and_keeps_its_order(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []
    # one conversation per run_once, so each call shows where the previous one stopped
    worker = make_worker(parts, lambda e: seen.append(e.text), max_batch=3, max_conversations=1)
    ingestor.ingest([event("U1", n) for n in range(7)])
    assert worker.run_once() == 3
    # The rest was announced again and the lock was freed for whoever takes it next.
    assert client.llen(ingestor.keys.mailbox("line:main:U1")) == 4
    assert client.get(locks.name(event("U1", 0).conversation)) is None
    assert worker.run_once() == 3
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert seen == [str(n) for n in range(7)]
    assert client.xlen(ingestor.keys.ready) == 0  # every announcement acknowledged and deleted


def test_a_busy_conversation_is_left_in_its_mailbox(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.text), lock_wait=0.05)
    ingestor.ingest([event("U1", 0)])
    with locks.acquire(event("U1", 0).conversation):
        assert worker.run_once() == 0
    assert seen == []
    assert client.llen(ingestor.keys.mailbox("line:main:U1")) == 1


def test_each_event_restarts_the_lease_so_a_slow_drain_keeps_the_lock(parts):
    client, _keys, ingestor, locks = parts
    lock = locks.name(event("U1", 0).conversation)
    ttls: list[int] = []

    def slow(e):
        ttls.append(client.pttl(lock))
        time.sleep(0.3)

    worker = make_worker(parts, slow, lease_seconds=0.5)
    ingestor.ingest([event("U1", n) for n in range(3)])
    assert worker.run_once() == 3
    # Without the restart the lease would have run out during the second event.
    assert len(ttls) == 3 and min(ttls) > 150
    assert client.get(lock) is None


def test_a_conversation_costs_one_round_trip_and_one_per_event(parts):
    client, _keys, ingestor, _locks = parts
    calls: list[str] = []
    plain = client.execute_command

    def counting(*args, **options):
        calls.append(str(args[0]))
        return plain(*args, **options)

    worker = make_worker(parts, lambda e: None)
    ingestor.ingest([event("U1", n) for n in range(4)])
    client.execute_command = counting
    assert worker.run_once() == 4
    # read the announcement and take the lock with the first event; then per event,
    # move on (the last one also frees the lock and acknowledges the announcement)
    assert len(calls) == 1 + 4, calls


def test_a_conversation_locked_when_announced_is_handled_once_the_lock_frees(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.text), lock_wait=5)
    ingestor.ingest([event("U1", 0), event("U1", 1)])
    with locked_for(locks, event("U1", 0).conversation, 0.2):
        assert worker.run_once() == 2
    assert seen == ["0", "1"]
    assert client.xlen(ingestor.keys.ready) == 0
    assert client.xpending(ingestor.keys.ready, "workers")["pending"] == 0


def test_an_announcement_made_while_the_worker_waits_is_taken_by_the_blocking_read(parts):
    _client, _keys, ingestor, _locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.text))
    worker._block_ms = 2000
    timer = threading.Timer(0.2, lambda: ingestor.ingest([event("U1", 0)]))
    timer.start()
    try:
        assert worker.run_once() == 1
    finally:
        timer.cancel()
    assert seen == ["0"]


# -- chained claims: the step that finishes a conversation claims the next one -----


def counting_calls(client):
    """Record every command the client sends (a script call is one EVALSHA). The
    worker's scripts are loaded first, so no NOSCRIPT retry shows up."""
    for script in (_CLAIM, _TAKE, _NEXT):
        client.script_load(script)
    calls: list[str] = []
    plain = client.execute_command

    def counting(*args, **options):
        calls.append(str(args[0]))
        return plain(*args, **options)

    client.execute_command = counting
    return calls


def assert_all_finished(client, ingestor, locks, users):
    assert client.xlen(ingestor.keys.ready) == 0
    assert client.xpending(ingestor.keys.ready, "workers")["pending"] == 0
    assert client.scard(ingestor.keys.scheduled) == 0
    for user in users:
        assert client.get(locks.name(event(user, 0).conversation)) is None


def test_the_step_finishing_a_conversation_claims_the_next_one(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.event_id))
    ingestor.ingest([event("U1", 0), event("U2", 0), event("U1", 1), event("U2", 1)])
    calls = counting_calls(client)
    assert worker.run_once() == 4
    assert seen == ["U1-0", "U1-1", "U2-0", "U2-1"]  # announcement order, mailbox order
    # claim U1 + one step per event; U1's last step also claimed U2 (before: a
    # separate claim script for U2, so 6 calls)
    assert calls == ["EVALSHA"] * 5, calls
    assert_all_finished(client, ingestor, locks, ["U1", "U2"])


def test_a_long_mailbox_waits_behind_the_conversations_announced_before_its_rest(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.event_id), max_batch=3)
    ingestor.ingest([event("U1", n) for n in range(7)] + [event("U2", 0), event("U2", 1)])
    assert worker.run_once() == 9
    assert seen == ["U1-0", "U1-1", "U1-2", "U2-0", "U2-1",
                    "U1-3", "U1-4", "U1-5", "U1-6"]
    assert_all_finished(client, ingestor, locks, ["U1", "U2"])


def test_run_once_returns_after_max_conversations_or_when_told_to_stop(parts):
    client, _keys, ingestor, _locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.event_id), max_conversations=2)
    ingestor.ingest([event(u, 0) for u in ("U1", "U2", "U3", "U4")])
    assert worker.run_once() == 2
    assert seen == ["U1-0", "U2-0"]
    # U3 is still announced and not yet read by anyone
    assert client.xpending(ingestor.keys.ready, "workers")["pending"] == 0
    assert client.xlen(ingestor.keys.ready) == 2
    assert worker.run_once(stop=lambda: True) == 1
    assert seen[-1] == "U3-0"
    assert worker.run_once() == 1
    assert seen[-1] == "U4-0"


def test_a_chained_conversation_locked_by_another_worker_is_waited_for(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.event_id), lock_wait=5)
    drained: list[str] = []
    plain_drain = worker._drain

    def spy(entry_id, conv):
        drained.append(conv)
        return plain_drain(entry_id, conv)

    worker._drain = spy
    ingestor.ingest([event("U1", 0), event("U2", 0), event("U2", 1)])
    with locked_for(locks, event("U2", 0).conversation, 0.3):
        assert worker.run_once() == 3
    assert drained == ["line:main:U2"]
    assert seen == ["U1-0", "U2-0", "U2-1"]
    assert_all_finished(client, ingestor, locks, ["U1", "U2"])


def test_a_crash_in_a_chained_conversation_leaves_its_event_and_announcement(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []

    def handler(e):
        if e.event_id == "U2-0":
            raise RuntimeError("boom")
        seen.append(e.event_id)

    worker = make_worker(parts, handler)
    ingestor.ingest([event("U1", 0), event("U2", 0), event("U2", 1)])
    with pytest.raises(RuntimeError):
        worker.run_once()
    assert seen == ["U1-0"]
    # U1 is done; U2's events are all still there, its lock is free and its
    # announcement is pending with this worker, to be reclaimed after claim_idle
    assert client.llen(ingestor.keys.mailbox("line:main:U1")) == 0
    assert client.llen(ingestor.keys.mailbox("line:main:U2")) == 2
    assert client.get(locks.name(event("U2", 0).conversation)) is None
    pending = client.xpending_range(ingestor.keys.ready, "workers", "-", "+", 10)
    assert [p["consumer"] for p in pending] == [b"w1"]
    assert client.hget(ingestor.keys.attempts, "U2-0") == b"1"

    survivor = make_worker(parts, lambda e: seen.append(e.event_id), "w2", claim_idle_ms=0)
    assert survivor.run_once() == 2
    assert seen == ["U1-0", "U2-0", "U2-1"]
    assert_all_finished(client, ingestor, locks, ["U1", "U2"])


# -- prefetch: the waiting flow's snapshot comes with the event ----------------------


def flow_snapshot(version, **data):
    return Snapshot(flow="payment_proof", flow_version=1, state="waiting", data=data,
                    version=version, updated_at=datetime(2026, 11, 23, tzinfo=timezone.utc))


def test_the_snapshot_reaches_the_handler_without_its_own_round_trip(parts):
    client, keys, ingestor, _locks = parts
    store = RedisSnapshotStore(client, keys)
    u1 = event("U1", 0).conversation
    assert store.save(u1, flow_snapshot(1, step="asked"), 0)
    loaded: list[tuple[str, Snapshot | None, Snapshot | None]] = []
    calls = counting_calls(client)

    def handler(e):
        before = len(calls)
        first = store.load(e.conversation)
        assert calls[before:] == [], "load went to Redis"
        if e.event_id == "U1-0":
            assert store.save(e.conversation, flow_snapshot(2, step="answered"), 1)
        elif e.event_id == "U1-1":
            assert store.delete(e.conversation, 2)
        before = len(calls)
        loaded.append((e.event_id, first, store.load(e.conversation)))
        assert calls[before:] == [], "load after a write went to Redis"

    worker = make_worker(parts, handler, prefetch=store)
    ingestor.ingest([event("U1", 0), event("U1", 1), event("U1", 2), event("U2", 0)])
    start = len(calls)
    assert worker.run_once() == 4
    assert loaded == [
        ("U1-0", flow_snapshot(1, step="asked"), flow_snapshot(2, step="answered")),
        # the next step's script read what the first event saved
        ("U1-1", flow_snapshot(2, step="answered"), None),
        ("U1-2", None, None),
        ("U2-0", None, None),  # no snapshot: None without asking Redis either
    ]
    assert "HGET" not in calls[start:]
    assert client.hget(keys.build("flow:snapshot", u1), "snapshot") is None
    # outside the worker's events, loads read Redis as before
    assert store.save(u1, flow_snapshot(1, step="later"), 0)
    assert store.load(u1) == flow_snapshot(1, step="later")
    assert calls[-1] == "HGET"


def test_without_prefetch_the_scripts_read_no_snapshot(parts):
    client, keys, ingestor, _locks = parts
    store = RedisSnapshotStore(client, keys)
    u1 = event("U1", 0).conversation
    store.save(u1, flow_snapshot(1), 0)
    loaded: list[Snapshot | None] = []
    worker = make_worker(parts, lambda e: loaded.append(store.load(e.conversation)))
    ingestor.ingest([event("U1", 0)])
    recorded = counting_calls(client)
    assert worker.run_once() == 1
    assert loaded == [flow_snapshot(1)]
    assert recorded == ["EVALSHA", "HGET", "EVALSHA"]


def test_after_finding_nothing_announced_the_worker_goes_straight_to_the_blocking_read(parts):
    client, _keys, ingestor, locks = parts
    seen: list[str] = []
    worker = make_worker(parts, lambda e: seen.append(e.event_id))
    ingestor.ingest([event("U1", 0)])
    calls = counting_calls(client)
    assert worker.run_once() == 1
    assert calls == ["EVALSHA", "EVALSHA"]  # claim; handled, finished, nothing else announced
    del calls[:]
    assert worker.run_once() == 0
    assert calls == ["XREADGROUP", "XAUTOCLAIM"]  # no second look without waiting
    ingestor.ingest([event("U2", 0)])
    del calls[:]
    assert worker.run_once() == 1  # announced before the read, which returns at once
    assert calls == ["XREADGROUP", "EVALSHA", "EVALSHA"]  # read, take, handled
    assert seen == ["U1-0", "U2-0"]
    assert_all_finished(client, ingestor, locks, ["U1", "U2"])

"""An idle worker's blocking read goes out together with the take of what it
delivers (``InboxWorker._wait_and_take``), on the thread's own connection of the
client ``make_redis`` builds: a wake-up is one round trip, and an older
announcement left pending stays where it was."""

from __future__ import annotations

import secrets
import threading
import time

import pytest

from bot.inbox_worker import _CLAIM, _NEXT, _TAKE, _WOKEN, InboxWorker
from bot.ingest import GROUP, Ingestor
from bot.shared_wakeup import Handed, SharedWakeup
from flows.keys import KeyBuilder
from flows.locks import RedisConversationLocks
from flows.redis_client import ThreadConnections, make_redis
from tests.bot.test_ingest_and_worker import event


@pytest.fixture
def parts(redis_url):
    client, webhook_side = make_redis(redis_url), make_redis(redis_url)
    assert isinstance(client, ThreadConnections)
    keys = KeyBuilder("wake")
    # The ingestor (the web process's side) has a client of its own, so what the
    # worker sends can be counted alone.
    yield client, Ingestor(webhook_side, keys), RedisConversationLocks(client, keys)
    client.close()
    webhook_side.close()


def worker(parts, seen: list[str], **kw) -> InboxWorker:  # noqa: ANN003
    client, ingestor, locks = parts
    return InboxWorker(client, ingestor, locks, lambda e: seen.append(e.text),
                       consumer="wake-1", block_ms=2000, **kw)


def round_trips(client: ThreadConnections) -> list[str]:
    """What the client sends, one entry per round trip (scripts loaded first, so no
    NOSCRIPT retry shows up)."""
    for script in (_CLAIM, _TAKE, _NEXT, _WOKEN):
        client.script_load(script)
    sent: list[str] = []
    plain, together = client.execute_command, client.send_together

    def one(*args, **options):  # noqa: ANN002, ANN003, ANN202
        sent.append(str(args[0]))
        return plain(*args, **options)

    def both(*commands):  # noqa: ANN002, ANN202
        sent.append("+".join(str(command[0]) for command in commands))
        return together(*commands)

    client.execute_command, client.send_together = one, both
    return sent


def run_once_announcing(idle: InboxWorker, announce) -> int:  # noqa: ANN001
    """``idle.run_once()`` while ``announce`` ingests an event 0.2 s into its wait."""
    timer = threading.Timer(0.2, announce)
    timer.start()
    try:
        return idle.run_once()
    finally:
        timer.cancel()


def test_a_worker_woken_by_an_announcement_starts_on_it_after_one_round_trip(parts):
    client, ingestor, _locks = parts
    seen: list[str] = []
    idle = worker(parts, seen)
    idle._none_announced = True  # it already looked: straight to the blocking read
    sent = round_trips(client)
    assert run_once_announcing(idle, lambda: ingestor.ingest([event("U1", 0)])) == 1
    assert seen == ["0"]
    # the read with the take of its announcement, then the step that finishes the
    # conversation (and looks for the next announcement)
    assert sent[:2] == ["XREADGROUP+EVALSHA", "EVALSHA"], sent
    assert len(sent) == 2, sent
    assert client.xpending(ingestor.keys.ready, GROUP)["pending"] == 0


def test_an_older_announcement_left_pending_is_not_taken_by_a_later_wake(parts):
    client, ingestor, locks = parts
    seen: list[str] = []
    busy = worker(parts, seen, lock_wait=0.05)
    ingestor.ingest([event("U1", 0)])
    lease = locks.acquire(event("U1", 0).conversation)  # another worker holds U1
    assert busy.run_once() == 0  # so U1's announcement is left pending to us
    lease.release()  # free again, but its announcement waits for the reclaim
    left = client.xpending_range(ingestor.keys.ready, GROUP, "-", "+", 10, busy.consumer)
    assert len(left) == 1
    assert run_once_announcing(busy, lambda: ingestor.ingest([event("U2", 5)])) == 1
    assert seen == ["5"]  # U2's message, the one the read delivered; not U1's
    still = client.xpending_range(ingestor.keys.ready, GROUP, "-", "+", 10, busy.consumer)
    assert [entry["message_id"] for entry in still] == [left[0]["message_id"]]


def test_a_wake_on_a_redis_that_forgot_the_scripts_still_takes_the_announcement(parts):
    client, ingestor, _locks = parts
    seen: list[str] = []
    idle = worker(parts, seen)
    idle._none_announced = True
    client.script_flush()
    assert run_once_announcing(idle, lambda: ingestor.ingest([event("U3", 7)])) == 1
    assert seen == ["7"]
    assert client.xpending(ingestor.keys.ready, GROUP)["pending"] == 0


def test_a_wake_with_nothing_announced_returns_without_taking_anything(parts):
    client, ingestor, _locks = parts
    seen: list[str] = []
    idle = worker(parts, seen)
    idle._block_ms = 50
    idle._none_announced = True
    ingestor.ensure_group()
    assert idle.run_once() == 0
    assert seen == []
    assert client.xpending(ingestor.keys.ready, GROUP)["pending"] == 0


def test_idle_workers_of_a_process_are_woken_by_one_read_that_takes_for_all(parts):
    """Three idle workers sharing a SharedWakeup: the announcements of three
    conversations are read and taken in one round trip, and each worker serves one."""
    client, ingestor, locks = parts
    wakeup = SharedWakeup()
    served: dict[str, str] = {}

    def handler(e) -> None:  # noqa: ANN001
        served[e.text] = threading.current_thread().name

    workers = [InboxWorker(client, ingestor, locks, handler, consumer=f"wake-{n}",
                           block_ms=3000, wakeup=wakeup) for n in range(3)]
    for idle in workers:
        idle._none_announced = True  # they already looked: straight to waiting
    # A reader that holds the turn until the three workers wait behind it.
    holding, release = threading.Event(), threading.Event()

    def hold(tokens: list[str]) -> tuple[list, list]:
        holding.set()
        assert release.wait(5)
        return [], []

    holder = threading.Thread(target=wakeup.wait, args=(hold, 5.0))
    holder.start()
    assert holding.wait(5)
    sent = round_trips(client)
    threads = [threading.Thread(target=w.run_once, name=f"thread-{n}")
               for n, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while wakeup.waiting() < 3:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    ingestor.ingest([event("U1", 1), event("U2", 2), event("U3", 3)])
    release.set()  # the first in line reads for itself and the two behind it
    for thread in [holder, *threads]:
        thread.join(10)
        assert not thread.is_alive()
    assert sorted(served) == ["1", "2", "3"]
    assert sorted(served.values()) == ["thread-0", "thread-1", "thread-2"]
    assert sent.count("XREADGROUP+EVALSHA") == 1, sent
    assert sent.count("EVALSHA") == 3, sent  # each conversation's finishing step
    assert client.xpending(ingestor.keys.ready, GROUP)["pending"] == 0


def test_a_claim_left_for_nobody_is_served_before_anything_is_asked_of_redis(parts):
    client, ingestor, locks = parts
    wakeup = SharedWakeup()
    seen: list[str] = []
    idle = worker(parts, seen, wakeup=wakeup)
    ingestor.ingest([event("U4", 9)])
    # What a reader took for a thread that had stopped waiting: U4's claim under
    # its token (taken here by another worker's claim script), left as a spare.
    token = secrets.token_hex(16)
    claimed = worker(parts, [])._claim_now(token)
    assert claimed and claimed[2] == 1
    wakeup.wait(lambda tokens: ([], [Handed("the reader's own", tokens[0]),
                                     Handed(claimed, token)]), 1.0)
    sent = round_trips(client)
    assert idle.run_once() == 1
    assert seen == ["9"]
    assert sent[0] == "EVALSHA", sent  # the finishing step: no claim, no read first
    assert client.xpending(ingestor.keys.ready, GROUP)["pending"] == 0
    assert not client.exists(locks.name(event("U4", 9).conversation))


def test_workers_sharing_a_wakeup_handle_every_event_once_and_in_order(parts):
    """Bursts with pauses between them, so the threads keep going idle and being
    woken through the shared read: each conversation's events arrive once each, in
    order, and nothing is left pending."""
    client, ingestor, locks = parts
    wakeup = SharedWakeup()
    seen: dict[str, list[int]] = {}
    guard = threading.Lock()

    def handler(e) -> None:  # noqa: ANN001
        with guard:
            seen.setdefault(e.user_id, []).append(int(e.text))

    workers = [InboxWorker(client, ingestor, locks, handler, consumer=f"shared-{n}",
                           block_ms=100, wakeup=wakeup) for n in range(6)]
    stop = threading.Event()

    def loop(w: InboxWorker) -> None:
        while not stop.is_set():
            w.run_once(stop.is_set)

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    users = [f"S{n}" for n in range(12)]
    try:
        for n in range(15):
            ingestor.ingest([event(u, n) for u in users])
            time.sleep(0.01 if n % 3 else 0.15)  # every third pause lets them all idle
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum(map(len, seen.values())) < 180:
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
    assert {u: seen.get(u) for u in users} == {u: list(range(15)) for u in users}
    assert client.xpending(ingestor.keys.ready, GROUP)["pending"] == 0
    assert wakeup.spare() is None


def test_a_pools_workers_share_one_wakeup_and_stop_within_their_wait(container):
    from web.chat_wiring import worker_pool

    pool = worker_pool(container, 3, block_ms=200)
    made = [pool._make_worker(n) for n in range(3)]
    assert len({id(w._wakeup) for w in made}) == 1
    assert len({w.consumer for w in made}) == 3
    pool.start()
    time.sleep(0.5)  # all idle: one reads, the others wait behind it
    threads = list(pool._threads)
    assert len(threads) == 3
    started = time.monotonic()
    pool.stop(timeout=5)
    assert time.monotonic() - started < 2
    assert not any(thread.is_alive() for thread in threads)

"""Conversation locks, against the memory backend and a real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from commerce.identity import Channel, ConversationKey
from flows.keys import KeyBuilder
from flows.locks import (
    LOCK_KIND,
    ConversationLocks,
    LockTimeout,
    MemoryConversationLocks,
    RedisConversationLocks,
)
from flows.redis_client import make_redis

ALICE = ConversationKey(Channel.LINE, "shop", "Ualice")
BOB = ConversationKey(Channel.LINE, "shop", "Ubob")


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def locks(request: pytest.FixtureRequest) -> Iterator[ConversationLocks]:
    if request.param == "memory":
        yield MemoryConversationLocks()
        return
    client = make_redis(request.getfixturevalue("redis_url"))
    yield RedisConversationLocks(client, KeyBuilder("t"))
    client.close()


def test_a_held_lock_refuses_others_but_not_other_conversations(locks: ConversationLocks) -> None:
    with locks.acquire(ALICE):
        with pytest.raises(LockTimeout):
            locks.acquire(ALICE, timeout=0)
        with locks.acquire(BOB, timeout=0):
            pass
    with locks.acquire(ALICE, timeout=0):
        pass


def test_context_manager_releases_when_the_body_raises(locks: ConversationLocks) -> None:
    with pytest.raises(RuntimeError), locks.acquire(ALICE):
        raise RuntimeError("handler failed")
    assert locks.acquire(ALICE, timeout=0).release()


def test_waiter_gets_the_lock_once_the_holder_releases(locks: ConversationLocks) -> None:
    holder = locks.acquire(ALICE)
    got: list[bool] = []
    waiting = threading.Event()

    def wait_for_it() -> None:
        waiting.set()
        with locks.acquire(ALICE, timeout=10):
            got.append(True)

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    waiting.wait(timeout=5)
    holder.release()
    thread.join(timeout=15)
    assert got == [True]


def test_release_twice_reports_the_second_as_not_ours(locks: ConversationLocks) -> None:
    lease = locks.acquire(ALICE)
    assert lease.release()
    assert not lease.release()
    assert not lease.extend()


def test_threads_incrementing_under_the_lock_lose_no_update(locks: ConversationLocks) -> None:
    counter = {"value": 0}
    threads_n, rounds = 8, 25

    def work() -> None:
        for _ in range(rounds):
            with locks.acquire(ALICE, timeout=30):
                seen = counter["value"]
                time.sleep(0)  # hand the GIL over mid-update to invite a lost write
                counter["value"] = seen + 1

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert counter["value"] == threads_n * rounds


def test_memory_lease_expiry_lets_another_owner_in_and_stale_owner_cannot_release() -> None:
    clock = FakeMonotonic()
    locks = MemoryConversationLocks(lease_seconds=10, clock=clock)
    stale = locks.acquire(ALICE)
    clock.now += 10.5
    fresh = locks.acquire(ALICE, timeout=0)
    assert not stale.release()
    assert not stale.extend()
    with pytest.raises(LockTimeout):
        locks.acquire(ALICE, timeout=0)
    assert fresh.release()


def test_memory_extend_keeps_the_lock_past_its_first_lease() -> None:
    clock = FakeMonotonic()
    locks = MemoryConversationLocks(lease_seconds=10, clock=clock)
    lease = locks.acquire(ALICE)
    clock.now += 8
    assert lease.extend()
    clock.now += 8
    with pytest.raises(LockTimeout):
        locks.acquire(ALICE, timeout=0)
    clock.now += 3
    assert locks.acquire(ALICE, timeout=0).release()


def test_redis_lease_expiry_lets_another_owner_in_and_stale_owner_cannot_release(
    redis_url: str,
) -> None:
    locks = RedisConversationLocks(make_redis(redis_url), KeyBuilder("t"))
    stale = locks.acquire(ALICE, lease_seconds=0.05)  # then "crashes": never releases
    fresh = locks.acquire(ALICE, timeout=10)
    assert not stale.release()
    assert not stale.extend()
    with pytest.raises(LockTimeout):
        locks.acquire(ALICE, timeout=0)
    assert fresh.release()


def test_redis_extend_restarts_the_lease(redis_url: str) -> None:
    client = make_redis(redis_url)
    keys = KeyBuilder("t")
    locks = RedisConversationLocks(client, keys)
    lease = locks.acquire(ALICE, lease_seconds=1)
    assert lease.extend(60)
    assert client.pttl(keys.build(LOCK_KIND, ALICE)) > 1000


def test_nonpositive_lease_is_refused() -> None:
    with pytest.raises(ValueError):
        MemoryConversationLocks(lease_seconds=0)

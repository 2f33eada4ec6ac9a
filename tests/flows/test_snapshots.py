"""One suite, run against every snapshot backend (memory and real Redis)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce.identity import Channel, ConversationKey
from flows.keys import KeyBuilder
from flows.redis_client import make_redis
from flows.snapshots import (
    SNAPSHOT_KIND,
    MemorySnapshotStore,
    RedisSnapshotStore,
    Snapshot,
    SnapshotStore,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ALICE = ConversationKey(Channel.LINE, "shop", "Ualice")
BOB = ConversationKey(Channel.MESSENGER, "page1", "bob")
CAROL = ConversationKey(Channel.LINE, "shop", "Ucarol")


def snap(version: int = 1, *, state: str = "waiting", expires_in: int | None = None, **data):
    return Snapshot(
        flow="order_confirmation",
        flow_version=1,
        state=state,
        data=dict(data),
        version=version,
        updated_at=T0,
        expires_at=T0 + timedelta(seconds=expires_in) if expires_in is not None else None,
    )


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[SnapshotStore]:
    if request.param == "memory":
        yield MemorySnapshotStore()
        return
    client = make_redis(request.getfixturevalue("redis_url"))
    yield RedisSnapshotStore(client, KeyBuilder("t"))
    client.close()


def test_missing_conversation_has_no_snapshot(store: SnapshotStore) -> None:
    assert store.load(ALICE) is None


def test_first_save_expects_version_zero_and_round_trips(store: SnapshotStore) -> None:
    first = snap(order="A-1", note="請於今天出貨", lines=[{"sku": "T1", "qty": 2}], expires_in=60)
    assert store.save(ALICE, first, expected_version=0)
    assert store.load(ALICE) == first
    assert store.load(BOB) is None


def test_stale_writer_never_overwrites_a_newer_snapshot(store: SnapshotStore) -> None:
    assert store.save(ALICE, snap(1, step=1), 0)
    assert store.save(ALICE, snap(2, step=2), 1)
    assert not store.save(ALICE, snap(2, step="stale"), 1)
    assert not store.save(ALICE, snap(1, step="again"), 0)
    assert store.load(ALICE) == snap(2, step=2)


def test_save_refuses_a_version_that_does_not_follow(store: SnapshotStore) -> None:
    with pytest.raises(ValueError):
        store.save(ALICE, snap(3), expected_version=1)
    assert store.load(ALICE) is None


@pytest.mark.parametrize("bad", [{"when": T0}, {"pair": (1, 2)}, {"n": float("nan")}])
def test_data_that_is_not_json_is_refused(store: SnapshotStore, bad: dict) -> None:
    with pytest.raises(ValueError):
        store.save(ALICE, snap(1, **bad), 0)
    assert store.load(ALICE) is None


def test_loaded_snapshots_are_independent_copies(store: SnapshotStore) -> None:
    store.save(ALICE, snap(1, items=["a"]), 0)
    loaded = store.load(ALICE)
    assert loaded is not None
    loaded.data["items"].append("b")
    assert store.load(ALICE) == snap(1, items=["a"])


def test_delete_is_compare_and_set_too(store: SnapshotStore) -> None:
    assert not store.delete(ALICE, 0)
    store.save(ALICE, snap(1), 0)
    store.save(ALICE, snap(2), 1)
    assert not store.delete(ALICE, 1)
    assert store.load(ALICE) is not None
    assert store.delete(ALICE, 2)
    assert store.load(ALICE) is None
    assert store.save(ALICE, snap(1), 0)


def test_due_lists_expired_waits_oldest_first_within_limit(store: SnapshotStore) -> None:
    store.save(ALICE, snap(1, expires_in=30), 0)
    store.save(BOB, snap(1, expires_in=10), 0)
    store.save(CAROL, snap(1, expires_in=500), 0)
    other = ConversationKey(Channel.LINE, "shop", "Unever")
    store.save(other, snap(1), 0)

    assert store.due(T0, 10) == []
    assert store.due(T0 + timedelta(seconds=30), 10) == [BOB, ALICE]
    assert store.due(T0 + timedelta(days=1), 2) == [BOB, ALICE]
    assert store.due(T0 + timedelta(days=1), 0) == []


def test_due_follows_saves_and_deletes(store: SnapshotStore) -> None:
    later = T0 + timedelta(minutes=5)
    store.save(ALICE, snap(1, expires_in=10), 0)
    store.save(BOB, snap(1, expires_in=10), 0)
    store.save(ALICE, snap(2, state="done"), 1)
    store.delete(BOB, 1)
    assert store.due(later, 10) == []
    store.save(ALICE, snap(3, expires_in=20), 2)
    assert store.due(later, 10) == [ALICE]


def _race(store: SnapshotStore, expected: int) -> list[str]:
    """Two real threads write the version after ``expected`` at the same moment."""
    barrier = threading.Barrier(2)
    wins: list[str] = []

    def write(name: str) -> None:
        barrier.wait(timeout=5)
        if store.save(ALICE, snap(expected + 1, writer=name), expected):
            wins.append(name)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return wins


def test_two_threads_racing_on_one_version_exactly_one_wins(store: SnapshotStore) -> None:
    store.save(ALICE, snap(1), 0)
    for expected in range(1, 21):
        wins = _race(store, expected)
        assert len(wins) == 1
        stored = store.load(ALICE)
        assert stored is not None
        assert (stored.version, stored.data["writer"]) == (expected + 1, wins[0])


def test_redis_snapshot_has_a_ttl_past_its_deadline(redis_url: str) -> None:
    client = make_redis(redis_url)
    keys = KeyBuilder("t")
    store = RedisSnapshotStore(client, keys, idle_ttl=timedelta(hours=1))
    store.save(ALICE, snap(1), 0)
    store.save(BOB, snap(1, expires_in=7200), 0)
    alice_ttl = client.pttl(keys.build(SNAPSHOT_KIND, ALICE))
    bob_ttl = client.pttl(keys.build(SNAPSHOT_KIND, BOB))
    assert 0 < alice_ttl <= 3_600_000
    assert 3_600_000 < bob_ttl <= 3 * 3_600_000


def test_redis_index_forgets_snapshots_that_vanished_by_ttl(redis_url: str) -> None:
    client = make_redis(redis_url)
    keys = KeyBuilder("t")
    store = RedisSnapshotStore(client, keys)
    store.save(ALICE, snap(1, expires_in=1), 0)
    store.save(BOB, snap(1, expires_in=2), 0)
    client.delete(keys.build(SNAPSHOT_KIND, ALICE))  # as if its TTL ran out
    later = T0 + timedelta(minutes=1)
    assert store.due(later, 10) == [BOB]
    assert client.zcard(keys.build("flow:due")) == 1


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        Snapshot("f", 1, "s", {}, 1, updated_at=datetime(2026, 1, 1))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(data=st.dictionaries(st.text(), json_values, max_size=5), version=st.integers(1, 10**6))
def test_json_form_round_trips(data: dict, version: int) -> None:
    original = Snapshot("f", 2, "s", data, version, T0, T0 + timedelta(seconds=5))
    assert Snapshot.from_json(original.to_json()) == original


# -- preloaded snapshots (the inbox worker's prefetch) -------------------------------


class _Counting:
    """Wraps a client's execute_command to record what reaches Redis."""

    def __init__(self, client) -> None:  # noqa: ANN001
        self.commands: list[str] = []
        plain = client.execute_command

        def counting(*args, **options):  # noqa: ANN002, ANN003, ANN202
            self.commands.append(str(args[0]))
            return plain(*args, **options)

        client.execute_command = counting


def test_a_preloaded_snapshot_is_loaded_without_redis(redis_url: str) -> None:
    client = make_redis(redis_url)
    keys = KeyBuilder("t")
    store = RedisSnapshotStore(client, keys)
    assert store.prefetch_prefix + ALICE.as_str() == keys.build(SNAPSHOT_KIND, ALICE)
    assert store.prefetch_field == "snapshot"
    store.save(ALICE, snap(1, step=1), 0)
    store.save(BOB, snap(1, step="bob"), 0)
    stored = client.hget(keys.build(SNAPSHOT_KIND, ALICE), store.prefetch_field)
    counting = _Counting(client)
    with store.preloaded(ALICE.as_str(), stored):
        assert store.load(ALICE) == snap(1, step=1)
        assert counting.commands == []
        assert store.load(BOB) == snap(1, step="bob")  # another conversation: Redis
        assert counting.commands == ["HGET"]
    assert store.load(ALICE) == snap(1, step=1)
    assert counting.commands == ["HGET", "HGET"]
    with store.preloaded(CAROL.as_str(), None):
        assert store.load(CAROL) is None
    assert counting.commands == ["HGET", "HGET"]


def test_writes_inside_the_preloaded_block_are_seen_by_later_loads(redis_url: str) -> None:
    client = make_redis(redis_url)
    store = RedisSnapshotStore(client, KeyBuilder("t"))
    store.save(ALICE, snap(1, step=1), 0)
    counting = _Counting(client)
    with store.preloaded(ALICE.as_str(), snap(1, step=1).to_json().encode()):
        assert store.save(ALICE, snap(2, step=2), 1)
        assert store.load(ALICE) == snap(2, step=2)
        assert store.delete(ALICE, 2)
        assert store.load(ALICE) is None
        assert store.save(ALICE, snap(1, step="again"), 0)
        assert store.load(ALICE) == snap(1, step="again")
        assert "HGET" not in counting.commands
        # a refused write leaves the stored value unknown: the next load asks Redis
        client.hset(store.prefetch_prefix + ALICE.as_str(), "version", 5)
        assert not store.save(ALICE, snap(2, step="stale"), 1)
        assert store.load(ALICE) == snap(1, step="again")
        assert counting.commands[-1] == "HGET"


def test_a_preloaded_snapshot_is_only_seen_by_its_own_thread(redis_url: str) -> None:
    client = make_redis(redis_url)
    store = RedisSnapshotStore(client, KeyBuilder("t"))
    store.save(ALICE, snap(1, step="stored"), 0)
    other: list[Snapshot | None] = []
    with store.preloaded(ALICE.as_str(), snap(1, step="preloaded").to_json().encode()):
        thread = threading.Thread(target=lambda: other.append(store.load(ALICE)))
        thread.start()
        thread.join()
        assert store.load(ALICE) == snap(1, step="preloaded")
    assert other == [snap(1, step="stored")]

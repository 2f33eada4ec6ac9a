"""The ingest script call: its own connections, a lost script, a lost connection."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import pytest
import redis

from bot.events import EventKind, InboundEvent
from bot.ingest import Ingestor
from commerce.identity import Channel
from flows.keys import KeyBuilder
from flows.redis_client import make_redis


def event(user: str, n: int) -> InboundEvent:
    return InboundEvent(channel=Channel.LINE, account="main", user_id=user,
                        kind=EventKind.TEXT, event_id=f"{user}-{n}", text=f"第{n}句",
                        timestamp=datetime(2026, 11, 23, tzinfo=timezone.utc))


@pytest.fixture
def client(redis_url):
    made = make_redis(redis_url)
    yield made
    made.close()


@pytest.fixture
def ingestor(client):
    return Ingestor(client, KeyBuilder("test"))


def stored(client, ingestor, user: str) -> list[InboundEvent]:  # noqa: ANN001
    raw = client.lrange(ingestor.keys.mailbox(f"line:main:{user}"), 0, -1)
    return [InboundEvent.from_dict(json.loads(entry)) for entry in raw]


def test_entries_are_the_events_json_as_before(client, ingestor):
    first = event("U1", 1)
    assert ingestor.ingest([first]) == 1
    [raw] = client.lrange(ingestor.keys.mailbox("line:main:U1"), 0, -1)
    assert raw == json.dumps(first.to_dict(), ensure_ascii=False).encode()
    assert stored(client, ingestor, "U1") == [first]


def test_the_script_is_loaded_again_after_the_server_forgot_it(client, ingestor):
    assert ingestor.ingest([event("U1", 1)]) == 1
    client.script_flush()
    assert ingestor.ingest([event("U1", 2), event("U1", 1)]) == 1
    assert [e.text for e in stored(client, ingestor, "U1")] == ["第1句", "第2句"]


def test_a_connection_the_server_dropped_is_replaced_without_failing_the_call(
        client, ingestor):
    assert ingestor.ingest([event("U1", 1)]) == 1
    assert client.client_kill_filter(_type="normal", skipme=True) >= 1
    assert ingestor.ingest([event("U1", 2)]) == 1
    assert ingestor.ingest([event("U1", 2)]) == 0
    assert len(stored(client, ingestor, "U1")) == 2


def test_a_script_error_is_raised_and_the_connection_stays_in_step(client, ingestor):
    client.set(ingestor.keys.mailbox("line:main:U1"), "not a list")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        ingestor.ingest([event("U1", 1)])
    assert ingestor.ingest([event("U2", 1)]) == 1
    assert [e.text for e in stored(client, ingestor, "U2")] == ["第1句"]


def test_a_plain_client_stores_and_reloads_the_script_the_same_way(redis_url):
    plain = redis.Redis.from_url(redis_url)
    ingestor = Ingestor(plain, KeyBuilder("test"))
    try:
        assert ingestor.ingest([event("U1", 1)]) == 1
        plain.script_flush()
        assert ingestor.ingest([event("U1", 2), event("U1", 1)]) == 1
        assert [e.text for e in stored(plain, ingestor, "U1")] == ["第1句", "第2句"]
    finally:
        plain.close()


def test_without_redis_the_call_fails_with_a_redis_error():
    down = Ingestor(make_redis("redis://127.0.0.1:1/0", connect_timeout=0.5), KeyBuilder("t"))
    for _ in range(2):
        with pytest.raises(redis.ConnectionError):
            down.ingest([event("U1", 1)])


def test_concurrent_calls_share_a_few_connections_and_store_everything_once(
        client, ingestor):
    users = [f"U{n}" for n in range(8)]
    connections_before = len(client.client_list())
    barrier = threading.Barrier(len(users))
    errors: list[BaseException] = []

    def send(user: str) -> None:
        try:
            barrier.wait(5)
            for n in range(25):
                ingestor.ingest([event(user, n), event(user, max(n - 1, 0))])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    for user in users:
        assert [e.text for e in stored(client, ingestor, user)] == [f"第{n}句" for n in range(25)]
    assert len(client.client_list()) - connections_before <= len(users)


def test_webhooks_arriving_during_a_call_are_stored_together_each_with_its_own_count(
        client, ingestor, monkeypatch):
    ingestor.ingest([event("U9", 0)])  # stored before: its redelivery counts 0 below
    calls: list[int] = []
    first_sent, go_on = threading.Event(), threading.Event()
    real_call = ingestor._call

    def call(keys, args):  # noqa: ANN001
        calls.append((len(keys) - 2) // 2)  # events in this round trip
        if len(calls) == 1:
            first_sent.set()
            assert go_on.wait(5)
        return real_call(keys, args)

    monkeypatch.setattr(ingestor, "_call", call)
    counts: dict[str, int] = {}

    def ingest(name: str, events: list[InboundEvent]) -> None:
        counts[name] = ingestor.ingest(events)

    first = threading.Thread(target=ingest, args=("first", [event("U1", 1)]))
    first.start()
    assert first_sent.wait(5)
    later = {"a": [event("U2", 1), event("U2", 2)], "b": [event("U9", 0)],
             "c": [event("U3", 1), event("U9", 1)]}
    threads = [threading.Thread(target=ingest, args=item) for item in later.items()]
    for thread in threads:
        thread.start()
    deadline = threading.Event()
    for _ in range(500):  # bounded: until all three wait behind the first call
        if len(ingestor._group._queue) == 3:
            break
        deadline.wait(0.01)
    go_on.set()
    for thread in [first, *threads]:
        thread.join(5)
        assert not thread.is_alive()
    assert calls == [1, 5]  # one round trip for the three webhooks that waited
    assert counts == {"first": 1, "a": 2, "b": 0, "c": 2}
    assert [e.text for e in stored(client, ingestor, "U2")] == ["第1句", "第2句"]
    assert [e.event_id for e in stored(client, ingestor, "U9")] == ["U9-0", "U9-1"]

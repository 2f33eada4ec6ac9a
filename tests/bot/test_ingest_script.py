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

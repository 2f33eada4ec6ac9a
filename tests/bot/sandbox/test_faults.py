"""Scripted failures are consumed in order, and a failed call delivers nothing."""

from __future__ import annotations

import pytest

from bot.sandbox import LINE, MESSENGER, FaultRule
from bot.sandbox.faults import FaultQueue
from tests.bot.sandbox.conftest import push, send


@pytest.fixture
def amy(actions):
    customer = actions.customer(LINE, "main", "王小美")
    customer.says("hi")
    return customer


@pytest.fixture
def amy_fb(actions):
    customer = actions.customer(MESSENGER, "PAGE1", "王小美")
    customer.says("hi")
    return customer


def test_next_push_is_429_with_retry_after(emulator, amy):
    emulator.faults.add(FaultRule(channel="line", endpoint="push", status=429, retry_after=1))

    failed = push(emulator, amy.user_id, "第一次")
    retried = push(emulator, amy.user_id, "第二次")

    assert failed.status == 429
    assert failed.headers["Retry-After"] == "1"
    assert failed.headers["X-Line-Request-Id"]
    assert retried.status == 200
    assert amy.seen() == [{"type": "text", "text": "第二次"}]
    assert [call.status for call in emulator.calls(LINE, "push")] == [429, 200]


def test_count_and_order_of_rules(emulator, amy_fb):
    emulator.faults.add(FaultRule(channel="messenger", endpoint="send", status=500, count=2))
    emulator.faults.add(FaultRule(channel="messenger", endpoint="send", status=503))

    statuses = [send(emulator, amy_fb.user_id).status for _ in range(4)]

    assert statuses == [500, 500, 503, 200]
    assert len(amy_fb.seen()) == 1
    assert emulator.faults.pending() == []


def test_graph_fault_has_graph_error_body(emulator, amy_fb):
    emulator.faults.add(FaultRule(channel="messenger", status=500))
    error = send(emulator, amy_fb.user_id).payload["error"]
    assert (error["code"], error["type"]) == (2, "OAuthException")


def test_rule_only_hits_matching_calls(emulator, amy, amy_fb):
    emulator.faults.add(FaultRule(channel="line", endpoint="reply", status=500))

    assert push(emulator, amy.user_id).status == 200
    assert send(emulator, amy_fb.user_id).status == 200
    assert len(emulator.faults.pending()) == 1


def test_rule_for_another_account_does_not_hit(emulator, amy):
    emulator.faults.add(FaultRule(channel="line", account="other", status=500))
    assert push(emulator, amy.user_id).status == 200


def test_slow_rule_delays_then_handles_normally(emulator, amy, slept):
    emulator.faults.add(FaultRule(channel="line", endpoint="push", delay=3))

    response = push(emulator, amy.user_id)

    assert slept == [3]
    assert response.status == 200
    assert len(amy.seen()) == 1


def test_custom_body(emulator, amy):
    emulator.faults.add(FaultRule(status=400, body={"message": "custom"}))
    assert push(emulator, amy.user_id).payload == {"message": "custom"}


def test_clear(emulator, amy):
    emulator.faults.add(FaultRule(status=500, count=5))
    emulator.faults.clear()
    assert push(emulator, amy.user_id).status == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": 500, "count": 0},
        {"status": 200},
        {},
        {"status": 500, "channel": "whatsapp"},
        {"status": 500, "endpoint": "broadcast"},
        {"delay": -1, "status": 500},
    ],
)
def test_nonsense_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        FaultRule(**kwargs)


def test_queue_take_uses_first_match():
    queue = FaultQueue()
    queue.add(FaultRule(channel="messenger", status=500))
    queue.add(FaultRule(channel="line", status=429))
    queue.add(FaultRule(channel="line", status=503))

    assert queue.take("line", "push", "main").status == 429
    assert queue.take("line", "push", "main").status == 503
    assert queue.take("line", "push", "main") is None
    assert [rule.channel for rule in queue.pending()] == ["messenger"]

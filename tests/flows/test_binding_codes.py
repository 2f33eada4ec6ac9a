"""Binding codes against a real Redis."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from commerce.identity import Channel
from flows.binding_codes import (
    CODE_KIND,
    ISSUE_KIND,
    BindingCodeRegistry,
    CodeClaim,
    CodeSpaceExhausted,
    normalize_code,
)
from flows.keys import KeyBuilder
from tests.support.clock import FakeClock

SECRET = b"test-secret-0123456789abcdef"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def codes(client: redis.Redis, clock: FakeClock) -> BindingCodeRegistry:
    return BindingCodeRegistry(client, SECRET, ttl_seconds=600, clock=clock, keys=KeyBuilder("t"))


def test_issue_gives_six_digits_a_url_safe_id_and_a_deadline(codes: BindingCodeRegistry) -> None:
    issued = codes.issue("visitor-1", Channel.LINE)
    assert re.fullmatch(r"[0-9]{6}", issued.code)
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", issued.id)
    assert issued.expires_at == T0 + timedelta(seconds=600)
    status = codes.status(issued.id)
    assert (status.status, status.expires_at, status.bound) == ("pending", issued.expires_at, None)


def test_the_code_is_never_stored_in_clear(client: redis.Redis, clock: FakeClock) -> None:
    registry = BindingCodeRegistry(client, SECRET, clock=clock, draw_code=lambda: "314159")
    issued = registry.issue("visitor-1", Channel.MESSENGER)
    assert len(client.keys("*")) == 2  # the code's entry and the issue record
    stored = []
    for key in client.keys("*"):
        stored.append(key)
        if client.type(key) == b"hash":
            stored.extend(v for kv in client.hgetall(key).items() for v in kv)
        else:
            stored.append(client.get(key))
    assert not any(issued.code.encode() in item for item in stored)
    assert registry.consume("314159") is not None


def test_consume_returns_the_visitor_once(codes: BindingCodeRegistry) -> None:
    issued = codes.issue("visitor-1", Channel.MESSENGER)
    claim = codes.consume(issued.code)
    assert claim == CodeClaim(issued.id, "visitor-1", Channel.MESSENGER, issued.expires_at)
    assert codes.consume(issued.code) is None
    assert codes.status(issued.id).status == "pending"  # until the binding is recorded


def test_consume_accepts_the_code_as_people_type_it(codes: BindingCodeRegistry) -> None:
    issued = codes.issue("v", Channel.LINE)
    wide = "".join(chr(ord(d) + 0xFEE0) for d in issued.code)
    typed = f"\u3000{wide[:3]} {wide[3:]} "
    claim = codes.consume(typed)
    assert claim is not None and claim.visitor_id == "v"


@pytest.mark.parametrize("attempt", ["", "12345", "not a code", "１２３４５６７"])
def test_consume_of_non_codes_and_unknown_codes_is_none(
    codes: BindingCodeRegistry, attempt: str
) -> None:
    codes.issue("v", Channel.LINE)
    assert codes.consume(attempt) is None


def test_an_unissued_code_is_not_consumable(client: redis.Redis, clock: FakeClock) -> None:
    registry = BindingCodeRegistry(client, SECRET, clock=clock, draw_code=lambda: "000001")
    registry.issue("v", Channel.LINE)
    assert registry.consume("000002") is None
    assert registry.consume("000001") is not None


def test_expired_codes_report_expired_and_cannot_be_consumed(
    codes: BindingCodeRegistry, clock: FakeClock
) -> None:
    issued = codes.issue("visitor-1", Channel.LINE)
    clock.now += timedelta(seconds=600)
    assert codes.status(issued.id).status == "expired"
    assert codes.consume(issued.code) is None


def test_mark_bound_is_what_the_widget_sees(codes: BindingCodeRegistry) -> None:
    issued = codes.issue("visitor-1", Channel.LINE)
    assert codes.consume(issued.code) is not None
    assert codes.mark_bound(issued.id, {"display_name": "王小明", "customer": "C-7"})
    status = codes.status(issued.id)
    assert status.status == "bound"
    assert status.bound == {"display_name": "王小明", "customer": "C-7"}


@pytest.mark.parametrize("issue_id", ["never-issued-id", "has space", "../etc", "x" * 100])
def test_unknown_ids(codes: BindingCodeRegistry, issue_id: str) -> None:
    assert codes.status(issue_id).status == "unknown"
    assert not codes.mark_bound(issue_id, {"display_name": "x"})


def test_codes_are_unique_among_live_codes(client: redis.Redis, clock: FakeClock) -> None:
    draws = iter(["111111", "111111", "111111", "222222"])
    registry = BindingCodeRegistry(client, SECRET, clock=clock, draw_code=lambda: next(draws))
    first = registry.issue("a", Channel.LINE)
    second = registry.issue("b", Channel.LINE)
    assert (first.code, second.code) == ("111111", "222222")
    assert registry.consume("111111").visitor_id == "a"
    assert registry.consume("222222").visitor_id == "b"


def test_issue_gives_up_after_bounded_collisions(client: redis.Redis, clock: FakeClock) -> None:
    registry = BindingCodeRegistry(client, SECRET, clock=clock, draw_code=lambda: "555555")
    registry.issue("a", Channel.LINE)
    with pytest.raises(CodeSpaceExhausted):
        registry.issue("b", Channel.LINE)


def test_twenty_threads_consuming_one_code_exactly_one_wins(codes: BindingCodeRegistry) -> None:
    issued = codes.issue("visitor-1", Channel.LINE)
    barrier = threading.Barrier(20)
    claims: list[CodeClaim | None] = []

    def attempt() -> None:
        barrier.wait(timeout=10)
        claims.append(codes.consume(issued.code))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(claims) == 20
    assert sum(claim is not None for claim in claims) == 1


def test_redis_keys_expire_on_their_own(client: redis.Redis, clock: FakeClock) -> None:
    keys = KeyBuilder("t")
    registry = BindingCodeRegistry(client, SECRET, ttl_seconds=600, clock=clock, keys=keys)
    issued = registry.issue("v", Channel.LINE)
    (code_key,) = client.keys(keys.build(CODE_KIND, "*"))
    assert 0 < client.pttl(code_key) <= 600_000
    assert 600_000 < client.pttl(keys.build(ISSUE_KIND, issued.id)) <= 600_000 + 3_600_000


def test_another_secret_cannot_use_the_codes(client: redis.Redis, clock: FakeClock) -> None:
    ours = BindingCodeRegistry(client, SECRET, clock=clock)
    theirs = BindingCodeRegistry(client, b"another-secret-of-16+bytes", clock=clock)
    issued = ours.issue("v", Channel.LINE)
    assert theirs.consume(issued.code) is None
    assert ours.consume(issued.code) is not None


def test_short_secrets_are_refused(client: redis.Redis) -> None:
    with pytest.raises(ValueError):
        BindingCodeRegistry(client, b"short")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456", "123456"),
        ("  004200 ", "004200"),
        ("１２３４５６", "123456"),
        ("12 34 56", "123456"),
        ("1 2 3 4 5 6", "123456"),
        ("\u3000１２３\u3000４５６\u3000", "123456"),
        ("123456\n", "123456"),
        ("12345", None),
        ("1234567", None),
        ("12-34-56", None),
        ("123456 please", None),
        ("abcdef", None),
        ("", None),
        ("٠١٢٣٤٥", None),  # Arabic-Indic digits are digits, but not ours
        ("12３45６7", None),
    ],
)
def test_normalize_code(text: str, expected: str | None) -> None:
    assert normalize_code(text) == expected


digits6 = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(digits=digits6, data=st.data())
def test_any_spacing_and_width_of_six_digits_normalizes_to_them(
    digits: str, data: st.DataObject
) -> None:
    parts = []
    for d in digits:
        parts.append(data.draw(st.sampled_from(["", " ", "\u3000", "  "])))
        parts.append(chr(ord(d) + 0xFEE0) if data.draw(st.booleans()) else d)
    parts.append(data.draw(st.sampled_from(["", " ", "\u3000"])))
    assert normalize_code("".join(parts)) == digits


@given(text=st.text(max_size=20))
def test_normalize_returns_six_ascii_digits_or_none(text: str) -> None:
    result = normalize_code(text)
    assert result is None or re.fullmatch(r"[0-9]{6}", result)

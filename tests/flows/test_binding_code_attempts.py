"""``BindingCodeRegistry.attempt``: lockout check, consume and failure count in one
Lua script, against a real Redis, with a clock the tests move."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import redis

from commerce.identity import Channel, ConversationKey
from flows.binding_codes import ISSUE_KIND, BindingCodeRegistry, CodeAttempt, CodeClaim
from flows.keys import KeyBuilder
from flows.rate_limits import AttemptLimiter, FailureLimit
from flows.redis_client import make_redis
from tests.support.clock import FakeClock

SECRET = b"test-secret-0123456789abcdef"
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
ALICE = ConversationKey(Channel.LINE, "shop", "Ualice")
BOB = ConversationKey(Channel.LINE, "shop", "Ubob")
DETAILS = "binding:issue-details"
LOCKOUT = timedelta(minutes=15)



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def keys() -> KeyBuilder:
    return KeyBuilder("t")


@pytest.fixture
def codes(client: redis.Redis, clock: FakeClock, keys: KeyBuilder) -> BindingCodeRegistry:
    return BindingCodeRegistry(client, SECRET, ttl_seconds=600, clock=clock, keys=keys)


@pytest.fixture
def limiter(client: redis.Redis, clock: FakeClock, keys: KeyBuilder) -> AttemptLimiter:
    return AttemptLimiter(client, FailureLimit(), clock, keys=keys)


def attempt(codes: BindingCodeRegistry, limiter: AttemptLimiter, code: str,
            who: ConversationKey = ALICE) -> CodeAttempt:
    return codes.attempt(code, who, limiter, details_kind=DETAILS)


def wrong_codes(codes: BindingCodeRegistry, limiter: AttemptLimiter, n: int,
                who: ConversationKey = ALICE) -> list[CodeAttempt]:
    return [attempt(codes, limiter, "000000", who) for _ in range(n)]


def test_a_live_code_is_claimed_once_with_the_member_reference(
    client: redis.Redis, codes: BindingCodeRegistry, limiter: AttemptLimiter, keys: KeyBuilder
) -> None:
    issued = codes.issue("visitor-1", Channel.MESSENGER)
    client.hset(keys.build(DETAILS, issued.id), mapping={"visitor_id": "visitor-1",
                                                         "member_ref": "#7"})
    got = attempt(codes, limiter, issued.code)
    claim = CodeClaim(issued.id, "visitor-1", Channel.MESSENGER, issued.expires_at)
    assert got == CodeAttempt("claimed", claim=claim, member_ref="#7")
    assert attempt(codes, limiter, issued.code) == CodeAttempt("wrong")
    assert codes.consume(issued.code) is None
    assert codes.status(issued.id).status == "pending"  # until the binding is recorded


def test_member_reference_is_none_without_details_or_with_an_empty_one(
    client: redis.Redis, codes: BindingCodeRegistry, limiter: AttemptLimiter, keys: KeyBuilder
) -> None:
    plain, empty, unasked = (codes.issue(v, Channel.LINE) for v in ("a", "b", "c"))
    client.hset(keys.build(DETAILS, empty.id), mapping={"visitor_id": "b", "member_ref": ""})
    client.hset(keys.build(DETAILS, unasked.id), mapping={"visitor_id": "c", "member_ref": "#1"})
    assert attempt(codes, limiter, plain.code).member_ref is None
    assert attempt(codes, limiter, empty.code).member_ref is None
    no_details = codes.attempt(unasked.code, ALICE, limiter)
    assert no_details.outcome == "claimed" and no_details.member_ref is None


def test_the_code_is_taken_as_people_type_it(
    codes: BindingCodeRegistry, limiter: AttemptLimiter
) -> None:
    issued = codes.issue("v", Channel.LINE)
    wide = "".join(chr(ord(d) + 0xFEE0) for d in issued.code)
    got = attempt(codes, limiter, f"\u3000{wide[:3]} {wide[3:]} ")
    assert got.outcome == "claimed" and got.claim is not None and got.claim.visitor_id == "v"


def test_a_claim_clears_the_failures(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    wrong_codes(codes, limiter, 4)
    assert attempt(codes, limiter, codes.issue("v", Channel.LINE).code).outcome == "claimed"
    assert [a.locked_until for a in wrong_codes(codes, limiter, 4)] == [None] * 4
    unlock = clock.now + LOCKOUT
    assert attempt(codes, limiter, "000000") == CodeAttempt("wrong", unlock)


def test_fifth_wrong_code_locks_out_and_then_codes_are_not_even_looked_at(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    issued = codes.issue("v", Channel.LINE)
    assert wrong_codes(codes, limiter, 4) == [CodeAttempt("wrong")] * 4
    clock.now += timedelta(minutes=3)
    unlock = clock.now + LOCKOUT
    assert attempt(codes, limiter, "not a code") == CodeAttempt("wrong", unlock)
    assert limiter.is_locked(ALICE) == unlock  # the same keys as the limiter's own
    clock.now += timedelta(minutes=5)  # locked for 10 more minutes, the code live for 2
    assert attempt(codes, limiter, issued.code) == CodeAttempt("locked", unlock)
    assert attempt(codes, limiter, "000000") == CodeAttempt("locked", unlock)  # not extended
    assert attempt(codes, limiter, issued.code, BOB).outcome == "claimed"  # still unused


def test_after_the_lockout_the_user_starts_over(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    wrong_codes(codes, limiter, 5)
    clock.now += LOCKOUT
    assert wrong_codes(codes, limiter, 4) == [CodeAttempt("wrong")] * 4
    assert attempt(codes, limiter, "000000") == CodeAttempt("wrong", clock.now + LOCKOUT)


def test_failures_counted_by_the_limiter_itself_count_here_and_back(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    for _ in range(3):
        assert limiter.register_failure(ALICE) is None
    assert wrong_codes(codes, limiter, 1) == [CodeAttempt("wrong")]
    assert limiter.register_failure(ALICE) == clock.now + LOCKOUT


def test_failures_outside_the_window_are_forgotten(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    wrong_codes(codes, limiter, 4)
    clock.now += timedelta(minutes=15, milliseconds=1)
    assert wrong_codes(codes, limiter, 4) == [CodeAttempt("wrong")] * 4


def test_an_expired_code_is_wrong_and_counts(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    issued = codes.issue("v", Channel.LINE)
    wrong_codes(codes, limiter, 4)
    clock.now += timedelta(seconds=600)
    assert attempt(codes, limiter, issued.code) == CodeAttempt("wrong", clock.now + LOCKOUT)
    assert codes.consume(issued.code) is None  # used up all the same, as consume would


def test_a_code_works_until_the_microsecond_it_expires(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    first, second = codes.issue("a", Channel.LINE), codes.issue("b", Channel.LINE)
    clock.now = first.expires_at - timedelta(microseconds=1)
    assert attempt(codes, limiter, first.code).outcome == "claimed"
    clock.now = second.expires_at
    assert attempt(codes, limiter, second.code).outcome == "wrong"


def test_a_code_of_an_issue_no_longer_pending_is_wrong(
    client: redis.Redis, codes: BindingCodeRegistry, limiter: AttemptLimiter, keys: KeyBuilder
) -> None:
    bound, gone = codes.issue("a", Channel.LINE), codes.issue("b", Channel.LINE)
    client.hset(keys.build(ISSUE_KIND, bound.id), "status", "bound")
    client.delete(keys.build(ISSUE_KIND, gone.id))
    assert attempt(codes, limiter, bound.code) == CodeAttempt("wrong")
    assert attempt(codes, limiter, gone.code) == CodeAttempt("wrong")
    assert len(wrong_codes(codes, limiter, 3)) == 3
    assert limiter.is_locked(ALICE) is not None


def test_a_record_issued_before_expires_us_existed_is_judged_by_its_code_key(
    client: redis.Redis, codes: BindingCodeRegistry, limiter: AttemptLimiter, keys: KeyBuilder
) -> None:
    issued = codes.issue("v", Channel.LINE)
    client.hdel(keys.build(ISSUE_KIND, issued.id), "expires_us")
    assert attempt(codes, limiter, issued.code).outcome == "claimed"


def test_twenty_users_racing_for_one_code_exactly_one_claims_it(
    codes: BindingCodeRegistry, limiter: AttemptLimiter
) -> None:
    issued = codes.issue("visitor-1", Channel.LINE)
    barrier = threading.Barrier(20)
    results: list[CodeAttempt] = []

    def race(n: int) -> None:
        barrier.wait(timeout=10)
        results.append(attempt(codes, limiter, issued.code,
                               ConversationKey(Channel.LINE, "shop", f"U{n}")))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(r.outcome for r in results) == ["claimed"] + ["wrong"] * 19


def test_one_user_racing_wrong_codes_locks_after_exactly_the_limit(
    codes: BindingCodeRegistry, limiter: AttemptLimiter, clock: FakeClock
) -> None:
    barrier = threading.Barrier(20)
    results: list[CodeAttempt] = []

    def race() -> None:
        barrier.wait(timeout=10)
        results.append(attempt(codes, limiter, "000000"))

    threads = [threading.Thread(target=race) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    unlock = clock.now + LOCKOUT
    assert Counter(results) == {CodeAttempt("wrong"): 4, CodeAttempt("wrong", unlock): 1,
                                CodeAttempt("locked", unlock): 15}


class CountingRedis(redis.Redis):
    """Counts what redis-py sends, as ``benchmarks/redis_probe.py`` does: a command
    alone is one round trip, a pipeline is one."""

    round_trips = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips += 1
        return super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        raise AssertionError("no pipelines expected here")


@pytest.mark.parametrize("kind", ["claimed", "wrong", "locked"])
def test_an_attempt_is_one_round_trip(
    redis_url: str, clock: FakeClock, keys: KeyBuilder, kind: str
) -> None:
    client = CountingRedis(connection_pool=make_redis(redis_url).connection_pool)
    codes = BindingCodeRegistry(client, SECRET, clock=clock, keys=keys)
    limiter = AttemptLimiter(client, FailureLimit(), clock, keys=keys)
    attempt(codes, limiter, "000000", BOB)  # the script is loaded once per server
    issued = codes.issue("v", Channel.LINE)
    if kind == "locked":
        wrong_codes(codes, limiter, 5)
    client.hset(keys.build(DETAILS, issued.id), "member_ref", "#7")
    client.round_trips = 0
    got = attempt(codes, limiter, issued.code if kind == "claimed" else "000000")
    assert (got.outcome, client.round_trips) == (kind, 1)
    client.close()

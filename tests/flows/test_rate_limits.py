"""Binding rate limits against a real Redis, with a clock the tests move."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import pytest
import redis

from commerce.identity import Channel, ConversationKey
from flows.keys import KeyBuilder
from flows.rate_limits import AttemptLimiter, FailureLimit, RateDecision, RateLimit, RateLimiter
from tests.support.clock import FakeClock

T0 = datetime(2026, 7, 1, 3, 0, tzinfo=timezone.utc)
ALICE = ConversationKey(Channel.LINE, "shop", "Ualice")
BOB = ConversationKey(Channel.LINE, "shop", "Ubob")
R = TypeVar("R")



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def attempts(client: redis.Redis, clock: FakeClock) -> AttemptLimiter:
    return AttemptLimiter(client, FailureLimit(), clock, keys=KeyBuilder("t"))


@pytest.fixture
def issues(client: redis.Redis, clock: FakeClock) -> RateLimiter:
    return RateLimiter(client, RateLimit(limit=10, window=timedelta(hours=1)), clock)


def in_threads(n: int, call: Callable[[], R]) -> list[R]:
    barrier = threading.Barrier(n)
    results: list[R] = []

    def run() -> None:
        barrier.wait(timeout=10)
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == n
    return results


def test_fifth_wrong_attempt_locks_out_for_fifteen_minutes(
    attempts: AttemptLimiter, clock: FakeClock
) -> None:
    for _ in range(4):
        assert attempts.register_failure(ALICE) is None
        clock.advance(minutes=1)
    unlock = clock.now + timedelta(minutes=15)
    assert attempts.register_failure(ALICE) == unlock
    assert attempts.is_locked(ALICE) == unlock
    assert attempts.is_locked(BOB) is None
    clock.advance(minutes=5)
    assert attempts.register_failure(ALICE) == unlock  # trying while locked does not extend


def test_lockout_ends_and_the_user_starts_over(attempts: AttemptLimiter, clock: FakeClock) -> None:
    for _ in range(5):
        attempts.register_failure(ALICE)
    clock.advance(minutes=15)
    assert attempts.is_locked(ALICE) is None
    for _ in range(4):
        assert attempts.register_failure(ALICE) is None
    assert attempts.register_failure(ALICE) is not None


def test_failures_older_than_the_window_do_not_count(
    attempts: AttemptLimiter, clock: FakeClock
) -> None:
    for _ in range(4):
        attempts.register_failure(ALICE)
    clock.advance(minutes=15)
    for _ in range(4):
        assert attempts.register_failure(ALICE) is None
    assert attempts.is_locked(ALICE) is None


def test_clear_forgets_the_attempts(attempts: AttemptLimiter) -> None:
    for _ in range(4):
        attempts.register_failure(ALICE)
    attempts.clear(ALICE)
    for _ in range(4):
        assert attempts.register_failure(ALICE) is None


def test_limits_come_from_the_caller(client: redis.Redis, clock: FakeClock) -> None:
    strict = AttemptLimiter(
        client, FailureLimit(2, timedelta(minutes=1), timedelta(hours=1)), clock
    )
    assert strict.register_failure("visitor:abc") is None
    assert strict.register_failure("visitor:abc") == clock.now + timedelta(hours=1)


def test_concurrent_failures_lock_after_exactly_the_limit(attempts: AttemptLimiter) -> None:
    results = in_threads(20, lambda: attempts.register_failure(ALICE))
    assert sum(r is None for r in results) == 4
    assert len({r for r in results if r is not None}) == 1


def test_ten_codes_an_hour_then_retry_after(issues: RateLimiter, clock: FakeClock) -> None:
    for _ in range(10):
        assert issues.hit("visitor-1").allowed
        clock.advance(minutes=1)
    denied = issues.hit("visitor-1")
    assert denied == RateDecision(False, timedelta(minutes=50))
    assert issues.hit("visitor-2").allowed
    clock.advance(minutes=50)
    assert issues.hit("visitor-1").allowed
    assert not issues.hit("visitor-1").allowed


def test_refused_hits_do_not_use_up_the_window(issues: RateLimiter, clock: FakeClock) -> None:
    for _ in range(10):
        issues.hit("v")
    for _ in range(30):
        clock.advance(minutes=1)
        assert not issues.hit("v").allowed
    clock.advance(minutes=30)
    assert all(issues.hit("v").allowed for _ in range(10))


def test_concurrent_hits_allow_exactly_the_limit(issues: RateLimiter) -> None:
    results = in_threads(30, lambda: issues.hit("visitor-1"))
    assert sum(r.allowed for r in results) == 10


def test_counters_expire_in_redis(client: redis.Redis, clock: FakeClock) -> None:
    keys = KeyBuilder("t")
    limiter = RateLimiter(client, RateLimit(3, timedelta(minutes=2)), clock, keys=keys)
    limiter.hit("v")
    assert 0 < client.pttl(keys.build("ratelimit:binding-codes", "v")) <= 120_000


@pytest.mark.parametrize(
    "limit",
    [FailureLimit(0), FailureLimit(window=timedelta(0)), FailureLimit(lockout=-timedelta(1))],
)
def test_unusable_failure_limits_are_refused(client: redis.Redis, limit: FailureLimit) -> None:
    with pytest.raises(ValueError):
        AttemptLimiter(client, limit)


@pytest.mark.parametrize("limit", [RateLimit(0), RateLimit(window=timedelta(0))])
def test_unusable_rate_limits_are_refused(client: redis.Redis, limit: RateLimit) -> None:
    with pytest.raises(ValueError):
        RateLimiter(client, limit)

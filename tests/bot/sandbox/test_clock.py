"""The sandbox clock: frozen or following the wall clock, always UTC, forward only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.sandbox import SandboxClock
from tests.bot.sandbox.conftest import START


def test_frozen_clock_moves_only_when_advanced():
    clock = SandboxClock(START)
    assert clock.now() == START
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.now_ms() == int(START.timestamp() * 1000) + 90_000


def test_live_clock_is_utc_and_includes_the_offset():
    clock = SandboxClock()
    before = datetime.now(timezone.utc)
    clock.advance(3600)
    now = clock.now()
    assert now.tzinfo == timezone.utc
    assert now >= before + timedelta(hours=1)


def test_time_never_goes_back():
    with pytest.raises(ValueError):
        SandboxClock(START).advance(-1)


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        SandboxClock(datetime(2026, 1, 1))

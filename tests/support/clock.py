"""A clock the tests move by hand, for code that takes ``clock: () -> datetime``."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta: float) -> None:
        """``advance(30)`` or ``advance(minutes=5)``."""
        self.now += timedelta(seconds=seconds, **delta)

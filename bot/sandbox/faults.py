"""Scripted failures: what the platforms do on a bad day.

A test (or the person at the chat page) queues rules such as "the next LINE push
answers 429 with Retry-After 1" or "the next two Messenger sends are slow". Each
call the service makes takes the first rule that matches it, in the order queued,
and uses up one of that rule's count. This makes retry and backoff code testable
without mocks.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

CHANNELS = ("line", "messenger")
ENDPOINTS = ("reply", "push", "quota", "profile", "content", "send")


@dataclass
class FaultRule:
    """One scripted misbehaviour.

    ``channel``/``endpoint``/``account`` narrow what it applies to (``None``
    matches anything). ``status`` replaces the normal answer; ``None`` means the
    call is only delayed by ``delay`` seconds and then handled normally.
    ``body`` overrides the platform's default error body.
    """

    channel: str | None = None
    endpoint: str | None = None
    account: str | None = None
    status: int | None = None
    count: int = 1
    delay: float = 0.0
    retry_after: int | None = None
    body: Any = None

    def __post_init__(self) -> None:
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        if self.endpoint is not None and self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}")
        if self.count < 1:
            raise ValueError("a fault rule must apply at least once")
        if self.delay < 0:
            raise ValueError("delay cannot be negative")
        if self.status is None and not self.delay:
            raise ValueError("a fault rule needs a status or a delay")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("a fault status is an HTTP error code (400-599)")

    def matches(self, channel: str, endpoint: str, account: str | None) -> bool:
        return (
            self.channel in (None, channel)
            and self.endpoint in (None, endpoint)
            and (self.account is None or self.account == account)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Fault:
    """The part of a rule that one call uses up."""

    status: int | None
    delay: float
    retry_after: int | None
    body: Any


class FaultQueue:
    """Rules in the order they were added; thread-safe."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[FaultRule]:
        with self._lock:
            return [FaultRule(**rule.to_dict()) for rule in self._rules]

    def take(self, channel: str, endpoint: str, account: str | None) -> Fault | None:
        """Consume one use of the first matching rule, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(channel, endpoint, account):
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return Fault(rule.status, rule.delay, rule.retry_after, rule.body)
        return None

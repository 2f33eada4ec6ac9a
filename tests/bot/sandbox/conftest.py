"""Fixtures for emulator unit tests: a frozen clock and no real HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.sandbox import ApiRequest, ApiResponse, CustomerActions, PlatformEmulator, SandboxClock

START = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)
LINE_TOKEN = "line-token"
PAGE_TOKEN = "page-token"


class RecordingTransport:
    """Stands in for the service's webhook endpoint: keeps what was posted."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.status = 200

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        self.sent.append((url, body, headers))
        return self.status


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(START)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def emulator(clock: SandboxClock, slept: list[float]) -> PlatformEmulator:
    emu = PlatformEmulator(clock, public_base_url="http://127.0.0.1:9/sandbox", sleep=slept.append)
    emu.add_line_channel(
        "main",
        channel_secret="line-secret",
        access_token=LINE_TOKEN,
        basic_id="@shop",
        webhook_url="http://127.0.0.1:9/webhooks/line",
    )
    emu.add_messenger_page(
        "PAGE1",
        page_token=PAGE_TOKEN,
        app_secret="app-secret",
        webhook_url="http://127.0.0.1:9/webhooks/messenger",
    )
    return emu


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def actions(emulator: PlatformEmulator, transport: RecordingTransport) -> CustomerActions:
    return CustomerActions(emulator, transport=transport)


def line_call(
    emu: PlatformEmulator,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str = LINE_TOKEN,
    headers: dict[str, str] | None = None,
) -> ApiResponse:
    """One LINE API call as line-bot-sdk would make it."""
    all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    raw = json.dumps(body).encode() if body is not None else b""
    return emu.line.handle(ApiRequest(method, path, all_headers, {}, raw))


def push(
    emu: PlatformEmulator, to: str, text: str = "hi", retry_key: str | None = None
) -> ApiResponse:
    body = {"to": to, "messages": [{"type": "text", "text": text}]}
    headers = {"X-Line-Retry-Key": retry_key} if retry_key else None
    return line_call(emu, "POST", "/v2/bot/message/push", body, headers=headers)


def graph_call(
    emu: PlatformEmulator,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str = PAGE_TOKEN,
    query: dict[str, str] | None = None,
) -> ApiResponse:
    """One Graph call as pymessenger would make it (token in the query string)."""
    raw = json.dumps(body).encode() if body is not None else b""
    return emu.graph.handle(
        ApiRequest(method, path, {}, {"access_token": token, **(query or {})}, raw)
    )


def send(emu: PlatformEmulator, psid: str, message: Any = None, **extra: Any) -> ApiResponse:
    body = {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": message if message is not None else {"text": "hello"},
        **extra,
    }
    return graph_call(emu, "POST", "/v25.0/me/messages", body)

"""The webhook endpoints through the Flask app: answers, what is stored, what is logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import replace

import pytest
from flask import session

from bot.events import InboundEvent
from web.app import create_app
from web.bootstrap import bootstrap
from web.logging_setup import JsonFormatter

USER = "U" + "1" * 32


def line_body(n: int = 1, user: str = USER, text: str = "你好") -> bytes:
    event = {
        "type": "message", "mode": "active", "timestamp": 1779577200000 + n,
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"01HWEBHOOKTEST{n:012d}", "deliveryContext": {"isRedelivery": False},
        "replyToken": f"token{n}",
        "message": {"type": "text", "id": str(n), "quoteToken": "q", "text": text},
    }
    return json.dumps({"destination": "U0", "events": [event]}, ensure_ascii=False).encode()


def line_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def app(container):
    return create_app(container)


@pytest.fixture
def client(app):
    return app.test_client()


def post_line(client, container, body: bytes, *, secret: str | None = None):  # noqa: ANN001, ANN201
    secret = secret or container.platforms.line_channel("main").secret
    return client.post("/webhooks/line", data=body,
                       headers={"X-Line-Signature": line_signature(secret, body)})


def mailbox(container, user: str = USER) -> list[bytes]:  # noqa: ANN001
    keys = container.ingestor.keys
    return container.redis.lrange(keys.mailbox(f"line:main:{user}"), 0, -1)


def test_a_signed_text_is_stored_once_in_the_mailbox_format_the_worker_reads(
        client, container):
    body = line_body()
    first = post_line(client, container, body)
    again = post_line(client, container, body)
    assert (first.status_code, first.get_data()) == (200, b"OK")
    assert again.status_code == 200
    [raw] = mailbox(container)
    event = InboundEvent.from_dict(json.loads(raw))
    assert (event.user_id, event.text, event.reply_token) == (USER, "你好", "token1")
    assert raw == json.dumps(event.to_dict(), ensure_ascii=False).encode()


def test_an_unreadable_event_is_left_out_and_the_rest_of_the_body_stored(client, container):
    good = json.loads(line_body(1, text="第一"))["events"][0]
    bad = dict(good, webhookEventId="01HWEBHOOKTESTBAD000000001", timestamp="yesterday")
    later = json.loads(line_body(2, text="第二"))["events"][0]
    body = json.dumps({"destination": "U0", "events": [good, bad, later]},
                      ensure_ascii=False).encode()
    assert post_line(client, container, body).status_code == 200
    stored = [InboundEvent.from_dict(json.loads(raw)).text for raw in mailbox(container)]
    assert stored == ["第一", "第二"]


def test_refusals(client, container):
    body = line_body()
    assert client.post("/webhooks/line", data=body).status_code == 400
    assert post_line(client, container, body, secret="another-secret").status_code == 400
    assert post_line(client, container, b'{"events": "none"}').status_code == 400
    assert post_line(client, container, b"{" + b" " * (1024 * 1024) + b"}").status_code == 413
    assert client.post("/webhooks/line/nobody", data=body).status_code == 404
    assert client.post("/webhooks/messenger", data=b"{}").status_code == 403
    assert mailbox(container) == []


def test_a_changed_channel_secret_takes_effect_at_once(client, container):
    channel = container.platforms.line_channel("main")
    old_secret = channel.secret
    assert post_line(client, container, line_body(1)).status_code == 200
    container.platforms.line["main"] = replace(channel, secret="rotated-secret")
    assert post_line(client, container, line_body(2), secret=old_secret).status_code == 400
    assert post_line(client, container, line_body(3), secret="rotated-secret").status_code == 200
    assert len(mailbox(container)) == 2


def test_redis_down_asks_the_platform_to_retry(app_config, environment):
    broken = bootstrap(app_config, environment, redis_url="redis://127.0.0.1:1/0")
    try:
        client = create_app(broken).test_client()
        assert post_line(client, broken, line_body()).status_code == 503
        assert post_line(client, broken, line_body()).status_code == 503
    finally:
        broken.close()


def test_every_webhook_request_logs_one_json_line_with_its_request_id(client, container):
    lines: list[dict] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(JsonFormatter().format(record)))

    handler = Lines()
    logger = logging.getLogger("chatcart.http")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = post_line(client, container, line_body())
        given = client.post("/webhooks/line", data=line_body(2),
                            headers={"X-Line-Signature": "x", "X-Request-Id": "abcdef0123"})
    finally:
        logger.removeHandler(handler)
    assert [line["msg"] for line in lines] == ["POST /webhooks/line 200",
                                              "POST /webhooks/line 400"]
    assert lines[0]["request_id"] == response.headers["X-Request-Id"]
    assert lines[1]["request_id"] == given.headers["X-Request-Id"] == "abcdef0123"
    assert all(isinstance(line["ms"], float) for line in lines)


def test_webhooks_set_no_cookie_and_sessions_still_work_elsewhere(app, container):
    @app.get("/test-session/<value>")
    def _set(value: str) -> str:
        session["value"] = value
        return "set"

    @app.get("/test-session")
    def _get() -> str:
        return session.get("value", "none")

    client = app.test_client()
    response = post_line(client, container, line_body())
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert client.get("/test-session").get_data() == b"none"
    set_response = client.get("/test-session/tea")
    assert "session=" in set_response.headers["Set-Cookie"]
    assert client.get("/test-session").get_data() == b"tea"
    tampered = app.test_client()
    tampered.set_cookie("session", "forged.value")
    assert tampered.get("/test-session").get_data() == b"none"

"""The webhook front: stored LINE webhooks are answered before Flask, and every
other request reaches Flask as it came (the refusals keep their body and id)."""

from __future__ import annotations

import io
import logging
from dataclasses import replace

import pytest

from tests.web.test_webhooks import USER, line_body, line_signature, mailbox, post_line
from web.app import create_app


@pytest.fixture
def app(container):
    app = create_app(container)
    app.flask_requests = []  # type: ignore[attr-defined]

    @app.before_request
    def _seen() -> None:
        from flask import request

        app.flask_requests.append((request.method, request.path))  # type: ignore[attr-defined]

    return app


def test_a_stored_webhook_is_answered_without_entering_flask(app, container):
    response = post_line(app.test_client(), container, line_body())
    assert (response.status_code, response.get_data()) == (200, b"OK")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert len(response.headers["X-Request-Id"]) == 16
    assert app.flask_requests == []
    assert len(mailbox(container)) == 1


def test_a_second_account_and_mains_long_address_are_answered_in_front(
        app, container):
    channel = container.platforms.line_channel("main")
    container.platforms.line["tw2"] = replace(channel, secret="second-secret")
    client = app.test_client()
    body = line_body()
    second = client.post("/webhooks/line/tw2", data=body,
                         headers={"X-Line-Signature": line_signature("second-secret", body)})
    assert second.status_code == 200
    assert app.flask_requests == []
    assert len(container.redis.lrange(
        container.ingestor.keys.mailbox(f"line:tw2:{USER}"), 0, -1)) == 1
    # main answers at /webhooks/line/main too, in front and in Flask alike (no redirect:
    # LINE does not follow one)
    body = line_body(2)  # another event: event ids are unique across accounts
    good = client.post("/webhooks/line/main", data=body,
                       headers={"X-Line-Signature": line_signature(channel.secret, body)})
    forged = client.post("/webhooks/line/main", data=line_body(3),
                         headers={"X-Line-Signature": "forged"})
    assert (good.status_code, forged.status_code) == (200, 400)
    assert app.flask_requests == [("POST", "/webhooks/line/main")]  # only the refusal
    assert len(mailbox(container)) == 1


@pytest.mark.parametrize("path, status", [
    ("/webhooks/line/", 404), ("/webhooks/line/nobody", 404), ("/webhooks/linefoo", 404),
    ("/webhooks/line/main/more", 404),
])
def test_paths_that_are_not_a_configured_account_go_to_flask(app, container, path, status):
    secret = container.platforms.line_channel("main").secret
    body = line_body()
    response = app.test_client().post(
        path, data=body, headers={"X-Line-Signature": line_signature(secret, body)})
    assert response.status_code == status
    assert app.flask_requests == [("POST", path)]
    assert mailbox(container) == []


def test_a_refused_webhook_reaches_flask_with_its_body_and_request_id(app, container, caplog):
    body = line_body()
    with caplog.at_level(logging.WARNING, logger="chatcart.webhooks"):
        response = app.test_client().post(
            "/webhooks/line", data=body,
            headers={"X-Line-Signature": "forged", "X-Request-Id": "req-0123456789"})
    assert (response.status_code, response.get_data()) == (400, b"invalid signature")
    assert response.headers["X-Request-Id"] == "req-0123456789"
    assert app.flask_requests == [("POST", "/webhooks/line")]
    assert any("bad signature" in r.getMessage() for r in caplog.records)
    malformed = b'{"events": "none"}'
    refused = post_line(app.test_client(), container, malformed)
    assert (refused.status_code, refused.get_data()) == (400, b"malformed body")
    assert mailbox(container) == []


def test_a_body_without_a_length_is_left_to_flask(app, container):
    body = line_body()
    secret = container.platforms.line_channel("main").secret
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/webhooks/line", "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(), "HTTP_X_LINE_SIGNATURE": line_signature(secret, body),
        "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True,
    }
    statuses: list[str] = []
    answer = b"".join(app.wsgi_app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"] and answer == b"OK"
    assert app.flask_requests == [("POST", "/webhooks/line")]
    assert len(mailbox(container)) == 1


def test_other_requests_pass_through(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert app.flask_requests == [("GET", "/healthz")]


def test_an_unexpected_error_in_front_is_left_to_flask(app, container, monkeypatch):
    from bot.line_adapter import LineWebhook

    def broken(self, body, signature):
        raise RuntimeError("a bug")

    monkeypatch.setattr(LineWebhook, "parse", broken)
    response = post_line(app.test_client(), container, line_body())
    assert response.status_code == 500
    assert app.flask_requests == [("POST", "/webhooks/line")]

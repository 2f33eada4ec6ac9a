"""/healthz, /readyz (503 naming what is down) and request ids in logs."""

import json
import logging

from web.app import create_app
from web.bootstrap import bootstrap
from web.logging_setup import JsonFormatter


def test_ready_when_redis_and_database_answer(container):
    client = create_app(container).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["status"] == "ready"


def test_readyz_names_redis_when_it_is_down(app_config, environment):
    broken = bootstrap(app_config, environment, redis_url="redis://127.0.0.1:1/0")
    try:
        response = create_app(broken).test_client().get("/readyz")
        assert response.status_code == 503
        assert set(response.json["down"]) == {"redis"}
    finally:
        broken.close()


def test_readyz_names_the_database_when_it_is_down(container):
    from sqlalchemy import create_engine

    container.engine = create_engine("sqlite:////proc/no-such-dir/chatcart.sqlite3")
    response = create_app(container).test_client().get("/readyz")
    assert response.status_code == 503
    assert set(response.json["down"]) == {"database"}


class _Lines(logging.Handler):
    """Formats at emit time, inside the request, as the real handler does."""

    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def test_each_request_gets_an_id_carried_by_its_log_lines(container):
    client = create_app(container).test_client()
    handler = _Lines()
    logger = logging.getLogger("chatcart.http")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = client.get("/nowhere", headers={"Accept": "application/json"})
        other = client.get("/nowhere", headers={"Accept": "application/json"})
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    rid = response.headers["X-Request-Id"]
    assert len(rid) >= 8 and rid != other.headers["X-Request-Id"]
    line = next(x for x in handler.lines if x["msg"].startswith("GET /nowhere 404"))
    assert line["request_id"] == rid


def test_json_formatter_includes_request_id_and_extras():
    from web.logging_setup import request_id_var

    token = request_id_var.set("abc12345")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
        record.order = "261123001"
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello you"
    assert line["request_id"] == "abc12345"
    assert line["order"] == "261123001"


def test_behind_a_trusted_proxy_the_client_address_and_scheme_come_from_its_headers(
        container):
    from dataclasses import replace

    from flask import request

    container.env = replace(container.env, trusted_proxies=1)
    app = create_app(container)

    @app.get("/_whoami")
    def whoami():
        return {"addr": request.remote_addr, "scheme": request.scheme}

    seen = app.test_client().get("/_whoami", headers={
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}).json
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(container):
    from flask import request

    app = create_app(container)

    @app.get("/_whoami")
    def whoami():
        return {"addr": request.remote_addr}

    seen = app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7"}).json
    assert seen["addr"] != "203.0.113.7"

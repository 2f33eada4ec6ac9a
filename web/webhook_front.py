"""The LINE webhook's usual case answered in front of Flask.

Webhooks are most of what the web process serves, they come in bursts (a
live-stream sale), and LINE waits for the answer. Flask's request machinery
(request and app contexts, routing, hooks, the session, the response object)
costs about as much CPU as everything the webhook itself does (measured with
``benchmarks/ingest_micro.py``). So a signed LINE webhook for a configured
account, of an acceptable size, whose events were stored, is answered here: the
same checks and the same storing as ``web/webhooks.py`` (the same functions do
both), the same ``OK``, the same ``X-Request-Id`` header and access-log line.

Everything else goes to Flask untouched, refusals included: a wrong signature, a
malformed body, an unknown account, a body without a length or over the limit, a
Redis error, anything unexpected. The body already read is handed on with the request, so Flask's
route answers those exactly as before, with its messages and warnings; this
module writes no refusal of its own.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from web.logging_setup import log_access, request_id_for, request_id_var
from web.webhooks import MAX_WEBHOOK_BYTES, line_parser

if TYPE_CHECKING:
    from web.bootstrap import Container

LINE_PATH = "/webhooks/line"
_OK_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WebhookFront:
    """WSGI middleware: answers stored LINE webhooks, hands every other request on."""

    def __init__(self, app: WsgiApp, container: Container) -> None:
        self._app = app
        self._container = container

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.startswith(LINE_PATH):
            return self._app(environ, start_response)
        account = _account(path)
        channel = self._container.platforms.line_channel(account) if account else None
        length = _length(environ)
        if channel is None or length is None or length > MAX_WEBHOOK_BYTES:
            return self._app(environ, start_response)
        started = time.perf_counter()
        body = environ["wsgi.input"].read(length)
        rid = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(rid)
        try:
            try:
                events = line_parser(channel.secret, account).parse(
                    body, environ.get("HTTP_X_LINE_SIGNATURE"))
                self._container.ingestor.ingest(events)
            except Exception:  # noqa: BLE001 - refusals, Redis errors and bugs alike
                # Flask's route gives the refusal (or the error), its warning and its
                # log line. Storing again is harmless: the ingest script dedupes.
                environ["wsgi.input"] = io.BytesIO(body)
                environ["HTTP_X_REQUEST_ID"] = rid
                return self._app(environ, start_response)
            start_response("200 OK", [*_OK_HEADERS, ("X-Request-Id", rid)])
            log_access("POST", path, 200, started)
            return [b"OK"]
        finally:
            request_id_var.reset(token)


def _account(path: str) -> str | None:
    """``main`` for ``/webhooks/line``, the name for ``/webhooks/line/<name>``, else None
    (the same paths as the routes in ``web/webhooks.py``)."""
    rest = path[len(LINE_PATH):]
    if not rest:
        return "main"
    name = rest[1:]
    if rest.startswith("/") and name and "/" not in name:
        return name
    return None


def _length(environ: dict[str, Any]) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None

"""Webhook endpoints: verify, parse, ingest, answer. No chat logic runs here.

A request is checked in this order, each failure answered before any further
work: size (413), signature over the raw bytes (LINE 400, Messenger 403), JSON
shape (400). Only verified, parsed events are appended to Redis; the 200 goes out
once they are durable, well inside LINE's 2 s and Messenger's 5 s.

A LINE webhook that is simply stored is answered before Flask by
``web/webhook_front.py`` with the same functions; the routes here answer every
other case (refusals, unknown accounts, Messenger) exactly as written below.
"""

from __future__ import annotations

import hmac
import logging
from functools import lru_cache
from typing import TYPE_CHECKING

import redis
from flask import Blueprint, Response, abort, current_app, request

from bot.events import InvalidSignature, MalformedPayload
from bot.line_adapter import LineWebhook
from bot.messenger_adapter import MessengerWebhook

if TYPE_CHECKING:
    from web.bootstrap import Container

bp = Blueprint("webhooks", __name__)
log = logging.getLogger("chatcart.webhooks")

MAX_WEBHOOK_BYTES = 1024 * 1024


def _container() -> Container:
    return current_app.extensions["chatcart"]


@lru_cache(maxsize=64)
def line_parser(secret: str, account: str) -> LineWebhook:
    """One parser per LINE channel, shared by every request and thread (it keeps no
    per-request state). Keyed by the secret too, so a changed secret takes effect."""
    return LineWebhook(secret, account)


@lru_cache(maxsize=8)
def _messenger_webhook(app_secret: str) -> MessengerWebhook:
    return MessengerWebhook(app_secret)


def _raw_body() -> bytes:
    length = request.content_length
    if length is not None and length > MAX_WEBHOOK_BYTES:
        abort(413)
    body = request.stream.read(MAX_WEBHOOK_BYTES + 1)
    if len(body) > MAX_WEBHOOK_BYTES:
        abort(413)
    return body


def _ingest(container: Container, events: list) -> Response:
    try:
        container.ingestor.ingest(events)
    except redis.RedisError:
        log.error("could not store webhook events; asking the platform to retry")
        return Response("temporarily unavailable", status=503)
    return Response("OK", mimetype="text/plain")


@bp.post("/webhooks/line")
def line_main() -> Response:
    """The ``main`` account's address. ``/webhooks/line/main`` is answered alike (a
    route default would make Flask redirect it, and LINE does not follow redirects)."""
    return line("main")


@bp.post("/webhooks/line/<account>")
def line(account: str) -> Response:
    container = _container()
    channel = container.platforms.line_channel(account)
    if channel is None:
        abort(404)
    body = _raw_body()
    try:
        events = line_parser(channel.secret, account).parse(
            body, request.headers.get("X-Line-Signature"))
    except InvalidSignature:
        log.warning("LINE webhook with a missing or bad signature refused",
                    extra={"account": account, "remote": request.remote_addr})
        return Response("invalid signature", status=400)
    except MalformedPayload as exc:
        log.warning("LINE webhook body refused: %s", exc, extra={"account": account})
        return Response("malformed body", status=400)
    return _ingest(container, events)


@bp.get("/webhooks/messenger")
def messenger_verify() -> Response:
    expected = _container().platforms.messenger_verify_token or ""
    given = request.args.get("hub.verify_token", "")
    if (request.args.get("hub.mode") == "subscribe" and expected
            and hmac.compare_digest(given.encode(), expected.encode())):
        return Response(request.args.get("hub.challenge", ""), mimetype="text/plain")
    log.warning("Messenger verification with a wrong token refused")
    return Response("forbidden", status=403)


@bp.post("/webhooks/messenger")
def messenger() -> Response:
    container = _container()
    platforms = container.platforms
    body = _raw_body()
    try:
        events = _messenger_webhook(platforms.messenger_app_secret or "").parse(
            body, request.headers.get("X-Hub-Signature-256"))
    except InvalidSignature:
        log.warning("Messenger webhook with a missing or bad signature refused",
                    extra={"remote": request.remote_addr})
        return Response("invalid signature", status=403)
    except MalformedPayload as exc:
        log.warning("Messenger webhook body refused: %s", exc)
        return Response("malformed body", status=400)
    known = [e for e in events if platforms.messenger_page(e.account) is not None]
    if len(known) != len(events):
        log.warning("events for pages that are not configured were dropped",
                    extra={"dropped": len(events) - len(known)})
    return _ingest(container, known)

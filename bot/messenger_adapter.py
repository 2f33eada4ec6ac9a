"""Messenger webhook bodies in, ``InboundEvent``s out.

Our own signature check, because pymessenger's is broken on Python 3. Ids are read
as strings whether the JSON has strings (the real platform) or numbers (several
library samples). Echoes of our own sends, deliveries and reads never become
events; ``seq`` is ignored (Meta stopped sending it in 2019).

A Messenger event without a ``mid`` (older postbacks, referrals) gets a stable
hash of page, sender, timestamp and payload as its id, so a resent webhook dedupes
to the same id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.events import EventKind, InboundEvent, InvalidSignature, MalformedPayload, MediaRef
from commerce.identity import Channel

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_PREFIX = "sha256="


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is ``sha256=`` + hex HMAC-SHA256(app secret, raw body)."""
    if not header or not header.startswith(_PREFIX):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    given = header[len(_PREFIX) :].strip().lower()
    return hmac.compare_digest(expected.encode(), given.encode("ascii", "replace"))


def _id(value: Any) -> str:
    """Platform ids as text; bools and empty values are not ids."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise MalformedPayload(f"not a Messenger id: {value!r}")
    return str(value)


class MessengerWebhook:
    """Verifies and parses the webhook of our Messenger app (every page it serves)."""

    def __init__(self, app_secret: str) -> None:
        if not app_secret:
            raise ValueError("a Messenger webhook needs the app secret")
        self._secret = app_secret

    def parse(self, body: bytes, signature_header: str | None) -> list[InboundEvent]:
        """Events of one webhook request, in the order Meta sent them.

        Raises ``InvalidSignature`` before looking at the body, then
        ``MalformedPayload`` if the signed body is not a page webhook.
        A body for another object type (Instagram, WhatsApp) gives no events.
        """
        if not verify_signature(self._secret, body, signature_header):
            raise InvalidSignature("X-Hub-Signature-256 missing or wrong")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise MalformedPayload(f"not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
            raise MalformedPayload("a Messenger webhook body needs an entry list")
        if data.get("object") != "page":
            return []
        try:
            return [
                event
                for entry in data["entry"]
                for raw in entry.get("messaging", [])
                for event in _convert(_id(entry["id"]), entry.get("time"), raw)
            ]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise MalformedPayload(f"unexpected Messenger event shape: {exc!r}") from exc


def _convert(page_id: str, entry_time: Any, raw: dict[str, Any]) -> list[InboundEvent]:
    message = raw.get("message")
    if isinstance(message, dict) and message.get("is_echo"):
        return []
    if not any(key in raw for key in ("message", "postback", "referral")):
        return []
    millis = raw.get("timestamp", entry_time)
    if not isinstance(millis, int) or isinstance(millis, bool):
        raise MalformedPayload("a Messenger event needs a timestamp")
    base = {
        "channel": Channel.MESSENGER,
        "account": page_id,
        "user_id": _id(raw["sender"]["id"]),
        "timestamp": _EPOCH + timedelta(milliseconds=millis),
    }
    if message is not None:
        return [InboundEvent(**base, **fields) for fields in _message_fields(message)]
    if "postback" in raw:
        postback = raw["postback"]
        referral = postback.get("referral") or {}
        return [
            InboundEvent(
                **base,
                kind=EventKind.POSTBACK,
                event_id=postback.get("mid") or _stable_id(page_id, base, postback),
                text=postback.get("title"),
                postback_data=postback.get("payload"),
                referral_ref=referral.get("ref"),
            )
        ]
    referral = raw["referral"]
    return [
        InboundEvent(
            **base,
            kind=EventKind.REFERRAL,
            event_id=_stable_id(page_id, base, referral),
            referral_ref=referral.get("ref"),
        )
    ]


def _message_fields(message: dict[str, Any]) -> list[dict[str, Any]]:
    """One event per image (each is a possible transfer slip), else one event.

    Stickers (the thumbs-up included) arrive as an image attachment plus a
    ``sticker_id``; they are stickers, not photos to check.
    """
    mid = message["mid"]
    text = message.get("text")
    if message.get("sticker_id") is not None:
        return [{"kind": EventKind.STICKER, "event_id": mid}]
    quick_reply = message.get("quick_reply")
    if quick_reply:
        return [
            {
                "kind": EventKind.POSTBACK,
                "event_id": mid,
                "text": text,
                "postback_data": quick_reply["payload"],
            }
        ]
    urls = [
        a["payload"]["url"]
        for a in message.get("attachments") or []
        if a.get("type") == "image" and (a.get("payload") or {}).get("url")
    ]
    if urls:
        return [
            {
                "kind": EventKind.IMAGE,
                "event_id": mid if n == 0 else f"{mid}#{n}",
                "media": MediaRef.from_url(url),
            }
            for n, url in enumerate(urls)
        ]
    if text:
        return [{"kind": EventKind.TEXT, "event_id": mid, "text": text}]
    return []


def _stable_id(page_id: str, base: dict[str, Any], payload: dict[str, Any]) -> str:
    content = {key: value for key, value in payload.items() if key != "seq"}
    material = json.dumps(
        [page_id, base["user_id"], base["timestamp"].isoformat(), content],
        sort_keys=True,
        ensure_ascii=False,
    )
    return "h-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]

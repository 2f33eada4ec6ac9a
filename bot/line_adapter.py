"""LINE webhook bodies in, ``InboundEvent``s out.

The signature is checked by us over the raw bytes before anything else: the SDK
checks a decoded ``str`` (so a body that is not UTF-8 would fail before we could
tell a forgery from a malformed request) and crashes on a missing header.

The body is then read as plain JSON, not through ``linebot.v3.WebhookParser``. The
SDK builds pydantic v1 models for every event, which cost more than half of the
adapter's time per webhook (measured with ``benchmarks/ingest_micro.py``), for the
handful of fields we read. Those fields are checked here as strictly as the SDK's
models check them (strings are strings, the timestamp an integer, the redelivery
flag a boolean, ``mode`` one of LINE's two values). A kept event that has them
wrong or missing is left out with a warning in our log naming what was wrong,
and the other events of the same body are stored as usual: refusing the whole
body would lose the events we can read, since LINE does not send a refused body
again in a form we could read. (The SDK turned such an event into an unknown
event that was dropped without a word.) Only a body that is not a LINE webhook
at all (not UTF-8 JSON, no ``events`` list of objects) is refused as malformed, with a 400.
Fields we do not read are not checked, and events we do not keep are not looked
into beyond their ``type`` and ``source``.

What we keep: 1:1 user-source text, image, sticker, postback, follow and unfollow.
Group and room events, other message types, unsend, edits, beacons and unknown
events are dropped. Postback ``params`` (date/time picker results) are dropped as
well: chatcart never sends picker actions, so ``postback_data`` stays exactly the
``data`` we put on the button. A standby-mode event keeps its place but loses the
reply token, because in standby another module answers the user. An unfollow never
has one (the SDK's model has no such field either).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.events import EventKind, InboundEvent, InvalidSignature, MalformedPayload, MediaRef
from commerce.identity import Channel

log = logging.getLogger("chatcart.webhooks")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_KEPT_TYPES = frozenset({"message", "postback", "follow", "unfollow"})
_MODES = frozenset({"active", "standby"})
_PROVIDERS = frozenset({"line", "external"})


class LineWebhook:
    """Verifies and parses the webhook of one LINE channel.

    ``account`` is our key for that channel ("main" or a configured name); it goes
    into every event so that conversations on different official accounts stay apart.
    An instance holds no per-request state: one per channel serves every request.
    """

    def __init__(self, channel_secret: str, account: str) -> None:
        if not channel_secret:
            raise ValueError("a LINE webhook needs the channel secret")
        self._secret = channel_secret.encode("utf-8")
        self._account = account

    def verify(self, body: bytes, signature: str | None) -> bool:
        """True when ``signature`` is base64(HMAC-SHA256(secret, body))."""
        if not signature:
            return False
        expected = base64.b64encode(hmac.new(self._secret, body, hashlib.sha256).digest())
        return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))

    def parse(self, body: bytes, signature: str | None) -> list[InboundEvent]:
        """Events of one webhook request, oldest first as LINE sent them.

        Raises ``InvalidSignature`` before looking at the body, then
        ``MalformedPayload`` if the signed body is not a LINE webhook. A single
        event we keep but cannot read is left out with a warning; the rest stay.
        """
        if not self.verify(body, signature):
            raise InvalidSignature("LINE signature missing or wrong")
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise MalformedPayload(f"not a LINE webhook body: {exc}") from exc
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise MalformedPayload("a LINE webhook body needs an events list of objects")
        parsed = []
        for position, raw in enumerate(events):
            try:
                event = self._convert(raw)
            except MalformedPayload as exc:
                log.warning("LINE event left out: %s", exc,
                            extra={"account": self._account, "position": position,
                                   "event_id": _event_id_of(raw)})
                continue
            if event is not None:
                parsed.append(event)
        return parsed

    def _convert(self, raw: Any) -> InboundEvent | None:
        if not isinstance(raw, dict):
            raise MalformedPayload("a LINE event is not an object")
        kind = raw.get("type")
        if not isinstance(kind, str):
            raise MalformedPayload("a LINE event needs a type")
        if kind not in _KEPT_TYPES:
            return None
        source = raw.get("source")
        if source is None:
            return None
        if not isinstance(source, dict):
            raise MalformedPayload(f"a LINE {kind} event's source is not an object")
        if source.get("type") != "user":
            return None
        user_id = _optional_str(source, "userId", kind)
        if not user_id:
            return None
        fields = _content(kind, raw)
        if fields is None:
            return None
        mode = raw.get("mode")
        if not isinstance(mode, str) or mode not in _MODES:
            raise MalformedPayload(f"a LINE {kind} event has no valid mode")
        reply_token = None
        if kind != "unfollow" and mode == "active":
            reply_token = _optional_str(raw, "replyToken", kind)
        event_id = raw.get("webhookEventId")
        if not isinstance(event_id, str) or not event_id:
            raise MalformedPayload(f"a LINE {kind} event needs a webhookEventId")
        millis = raw.get("timestamp")
        if not isinstance(millis, int) or isinstance(millis, bool):
            raise MalformedPayload(f"a LINE {kind} event needs an integer timestamp")
        context = raw.get("deliveryContext")
        redelivery = context.get("isRedelivery") if isinstance(context, dict) else None
        if not isinstance(redelivery, bool):
            raise MalformedPayload(f"a LINE {kind} event needs deliveryContext.isRedelivery")
        try:
            timestamp = _EPOCH + timedelta(milliseconds=millis)
        except OverflowError as exc:
            raise MalformedPayload(f"a LINE {kind} event's timestamp is out of range") from exc
        return InboundEvent(
            channel=Channel.LINE,
            account=self._account,
            user_id=user_id,
            event_id=event_id,
            timestamp=timestamp,
            reply_token=reply_token,
            redelivery=redelivery,
            **fields,
        )


def _event_id_of(raw: Any) -> str | None:
    """The event's id for the log line, if it has a readable one."""
    value = raw.get("webhookEventId") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _optional_str(obj: dict[str, Any], key: str, kind: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedPayload(f"a LINE {kind} event's {key} is not a string")
    return value


def _required_str(obj: dict[str, Any], key: str, kind: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise MalformedPayload(f"a LINE {kind} event needs a string {key}")
    return value


def _object(obj: dict[str, Any], key: str, kind: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise MalformedPayload(f"a LINE {kind} event needs a {key} object")
    return value


def _content(kind: str, raw: dict[str, Any]) -> dict[str, Any] | None:
    """The kind-specific fields of an event we keep, or None to drop it."""
    if kind == "message":
        message = _object(raw, "message", kind)
        message_type = message.get("type")
        if message_type == "text":
            return {"kind": EventKind.TEXT, "text": _required_str(message, "text", "text")}
        if message_type == "image":
            return {"kind": EventKind.IMAGE, "media": _image_ref(message)}
        if message_type == "sticker":
            return {"kind": EventKind.STICKER, "text": _optional_str(message, "text", "sticker")}
        if not isinstance(message_type, str):
            raise MalformedPayload("a LINE message needs a type")
        return None
    if kind == "postback":
        postback = _object(raw, "postback", kind)
        return {"kind": EventKind.POSTBACK, "postback_data": _required_str(postback, "data", kind)}
    if kind == "follow":
        return {"kind": EventKind.FOLLOW}
    return {"kind": EventKind.UNFOLLOW}


def _image_ref(message: dict[str, Any]) -> MediaRef | None:
    """LINE-hosted images are fetched by id; external ones by their original URL."""
    provider = _object(message, "contentProvider", "image")
    provider_type = provider.get("type")
    if not isinstance(provider_type, str) or provider_type not in _PROVIDERS:
        raise MalformedPayload("a LINE image needs contentProvider.type line or external")
    if provider_type == "line":
        message_id = message.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise MalformedPayload("a LINE-hosted image needs a message id")
        return MediaRef.line_content(message_id)
    url = _optional_str(provider, "originalContentUrl", "image")
    return MediaRef.from_url(url) if url else None

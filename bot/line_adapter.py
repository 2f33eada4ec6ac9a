"""LINE webhook bodies in, ``InboundEvent``s out.

The signature is checked by us over the raw bytes before anything else: the SDK
checks a decoded ``str`` (so a body that is not UTF-8 would fail before we could
tell a forgery from a malformed request) and crashes on a missing header. Parsing
is then left to ``linebot.v3.WebhookParser`` with its own check switched off.

What we keep: 1:1 user-source text, image, sticker, postback, follow and unfollow.
Group and room events, other message types, unsend, edits, beacons and unknown
events are dropped. Postback ``params`` (date/time picker results) are dropped as
well: chatcart never sends picker actions, so ``postback_data`` stays exactly the
``data`` we put on the button. A standby-mode event keeps its place but loses the
reply token, because in standby another module answers the user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any

from linebot.v3 import WebhookParser
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    ImageMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from bot.events import EventKind, InboundEvent, InvalidSignature, MalformedPayload, MediaRef
from commerce.identity import Channel

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LineWebhook:
    """Verifies and parses the webhook of one LINE channel.

    ``account`` is our key for that channel ("main" or a configured name); it goes
    into every event so that conversations on different official accounts stay apart.
    """

    def __init__(self, channel_secret: str, account: str) -> None:
        if not channel_secret:
            raise ValueError("a LINE webhook needs the channel secret")
        self._secret = channel_secret.encode("utf-8")
        self._account = account
        self._parser = WebhookParser(channel_secret, skip_signature_verification=lambda: True)

    def verify(self, body: bytes, signature: str | None) -> bool:
        """True when ``signature`` is base64(HMAC-SHA256(secret, body))."""
        if not signature:
            return False
        expected = base64.b64encode(hmac.new(self._secret, body, hashlib.sha256).digest())
        return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))

    def parse(self, body: bytes, signature: str | None) -> list[InboundEvent]:
        """Events of one webhook request, oldest first as LINE sent them.

        Raises ``InvalidSignature`` before looking at the body, then
        ``MalformedPayload`` if the signed body is not a LINE webhook.
        """
        if not self.verify(body, signature):
            raise InvalidSignature("LINE signature missing or wrong")
        try:
            payload = self._parser.parse(body.decode("utf-8"), signature or "", as_payload=True)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedPayload(f"not a LINE webhook body: {exc}") from exc
        events = (self._convert(event) for event in payload.events)
        return [event for event in events if event is not None]

    def _convert(self, event: Event) -> InboundEvent | None:
        source = event.source
        if not isinstance(source, UserSource) or not source.user_id:
            return None
        fields = _content(event)
        if fields is None:
            return None
        reply_token = getattr(event, "reply_token", None)
        if event.mode.value != "active":
            reply_token = None
        return InboundEvent(
            channel=Channel.LINE,
            account=self._account,
            user_id=source.user_id,
            event_id=event.webhook_event_id,
            timestamp=_EPOCH + timedelta(milliseconds=event.timestamp),
            reply_token=reply_token,
            redelivery=bool(event.delivery_context.is_redelivery),
            **fields,
        )


def _content(event: Event) -> dict[str, Any] | None:
    """The kind-specific fields of an event we keep, or None to drop it."""
    if isinstance(event, MessageEvent):
        message = event.message
        if isinstance(message, TextMessageContent):
            return {"kind": EventKind.TEXT, "text": message.text}
        if isinstance(message, ImageMessageContent):
            return {"kind": EventKind.IMAGE, "media": _image_ref(message)}
        if isinstance(message, StickerMessageContent):
            return {"kind": EventKind.STICKER, "text": message.text}
        return None
    if isinstance(event, PostbackEvent):
        return {"kind": EventKind.POSTBACK, "postback_data": event.postback.data}
    if isinstance(event, FollowEvent):
        return {"kind": EventKind.FOLLOW}
    if isinstance(event, UnfollowEvent):
        return {"kind": EventKind.UNFOLLOW}
    return None


def _image_ref(message: ImageMessageContent) -> MediaRef | None:
    """LINE-hosted images are fetched by id; external ones by their original URL."""
    provider = message.content_provider
    if provider.type == "line":
        return MediaRef.line_content(message.id)
    if provider.original_content_url:
        return MediaRef.from_url(provider.original_content_url)
    return None

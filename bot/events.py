"""The one inbound event type every channel adapter produces.

LINE and Messenger describe the same few things (a customer typed, sent a photo,
tapped a button, followed the account) in very different JSON. The adapters turn
both into ``InboundEvent`` so that ingestion, dedupe and the dispatcher never see a
platform payload. Events travel through a Redis stream, so they round-trip through
plain JSON types with ``to_dict`` / ``from_dict``.

The webhook and media exceptions live here too: ``web/`` catches them once for both
channels instead of importing anything platform specific.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from commerce.identity import Channel, ConversationKey


class WebhookError(Exception):
    """Base of the refusals a webhook endpoint turns into a 4xx answer."""


class InvalidSignature(WebhookError):
    """Missing or wrong signature: the body may not come from the platform."""


class MalformedPayload(WebhookError):
    """The signature is right but the body is not the JSON shape we expect."""


class MediaError(Exception):
    """Base of the refusals when downloading a customer's image."""


class MediaTooLarge(MediaError):
    """The content is bigger than the caller allowed; nothing is kept."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        shown = "unknown size" if size is None else f"{size} bytes"
        super().__init__(f"media over the {limit}-byte limit ({shown})")
        self.limit = limit
        self.size = size


class MediaGone(MediaError):
    """The platform no longer has the content (expired, unsent or never existed).

    ``status`` is the HTTP status: LINE answers 410 when the user unsent the
    message, which also means our own copy should go.
    """

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(f"media unavailable ({status}) {message}".rstrip())
        self.status = status


class EventKind(str, enum.Enum):
    TEXT = "text"
    IMAGE = "image"
    STICKER = "sticker"
    POSTBACK = "postback"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    REFERRAL = "referral"


LINE_CONTENT = "line_content"
URL = "url"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Where an inbound image can be fetched.

    LINE-hosted images are fetched by message id from the content API; external
    LINE images and Messenger attachments are plain URLs. Both expire, so the
    worker downloads them right away.
    """

    source: str
    message_id: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if self.source == LINE_CONTENT:
            if not self.message_id or self.url is not None:
                raise ValueError("a line_content media ref needs a message id and no url")
        elif self.source == URL:
            if not self.url or self.message_id is not None:
                raise ValueError("a url media ref needs a url and no message id")
        else:
            raise ValueError(f"unknown media source {self.source!r}")

    @classmethod
    def line_content(cls, message_id: str) -> MediaRef:
        return cls(LINE_CONTENT, message_id=message_id)

    @classmethod
    def from_url(cls, url: str) -> MediaRef:
        return cls(URL, url=url)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "message_id": self.message_id, "url": self.url}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaRef:
        return cls(data["source"], message_id=data.get("message_id"), url=data.get("url"))


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundEvent:
    """One thing a customer did in a 1:1 chat, channel-neutral.

    ``event_id`` is the platform's id for dedupe (LINE ``webhookEventId``,
    Messenger ``mid`` or a stable hash when Messenger gives none). ``reply_token``
    is only set when a LINE reply is allowed (never for standby events).
    """

    channel: Channel
    account: str
    user_id: str
    kind: EventKind
    event_id: str
    timestamp: datetime
    text: str | None = None
    postback_data: str | None = None
    referral_ref: str | None = None
    media: MediaRef | None = None
    reply_token: str | None = None
    redelivery: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel", Channel(self.channel))
        object.__setattr__(self, "kind", EventKind(self.kind))
        if not self.account or not self.user_id or not self.event_id:
            raise ValueError("an inbound event needs an account, a user id and an event id")
        if self.timestamp.tzinfo is None:
            raise ValueError("inbound event timestamps must be timezone-aware")
        object.__setattr__(self, "timestamp", self.timestamp.astimezone(timezone.utc))

    @property
    def conversation(self) -> ConversationKey:
        return ConversationKey(self.channel, self.account, self.user_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "account": self.account,
            "user_id": self.user_id,
            "kind": self.kind.value,
            "event_id": self.event_id,
            "timestamp": self.timestamp.isoformat(),
            "text": self.text,
            "postback_data": self.postback_data,
            "referral_ref": self.referral_ref,
            "media": None if self.media is None else self.media.to_dict(),
            "reply_token": self.reply_token,
            "redelivery": self.redelivery,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundEvent:
        """Rebuild an event written by ``to_dict``; raises ValueError on a bad entry."""
        try:
            media = data.get("media")
            return cls(
                channel=Channel(data["channel"]),
                account=data["account"],
                user_id=data["user_id"],
                kind=EventKind(data["kind"]),
                event_id=data["event_id"],
                timestamp=datetime.fromisoformat(data["timestamp"]),
                text=data.get("text"),
                postback_data=data.get("postback_data"),
                referral_ref=data.get("referral_ref"),
                media=None if media is None else MediaRef.from_dict(media),
                reply_token=data.get("reply_token"),
                redelivery=bool(data.get("redelivery", False)),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not an inbound event: {exc!r}") from exc

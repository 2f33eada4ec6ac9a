"""The records the emulator keeps: accounts, simulated people, transcripts, calls.

Plain data, no behaviour beyond formatting, so that the platform rules in
``line_api``/``messenger_api`` and the HTTP layer share one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

LINE = "line"
MESSENGER = "messenger"

#: (channel, account, user id): one chat thread, as the service keys it too.
ThreadKey = tuple[str, str, str]


@dataclass
class LineChannel:
    """A LINE Official Account: ``account`` is the key the service knows it by."""

    account: str
    channel_secret: str
    access_token: str
    basic_id: str
    bot_user_id: str
    webhook_url: str | None = None
    monthly_limit: int | None = None

    def public(self) -> dict[str, Any]:
        """What the chat page may see (no secrets)."""
        return {
            "channel": LINE,
            "account": self.account,
            "basic_id": self.basic_id,
            "bot_user_id": self.bot_user_id,
            "webhook_url": self.webhook_url,
            "monthly_limit": self.monthly_limit,
        }


@dataclass
class MessengerPage:
    """A Facebook page; its id is the account key."""

    page_id: str
    page_token: str
    app_secret: str
    name: str = ""
    webhook_url: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "channel": MESSENGER,
            "account": self.page_id,
            "name": self.name,
            "webhook_url": self.webhook_url,
        }


@dataclass
class SimUser:
    """A simulated person talking to one account.

    ``following`` is false after a LINE unfollow (block): pushes are then accepted
    but not delivered. ``last_inbound`` opens the Messenger 24-hour window.
    """

    channel: str
    account: str
    user_id: str
    display_name: str
    picture_url: str | None = None
    following: bool = True
    last_inbound: datetime | None = None

    @property
    def key(self) -> ThreadKey:
        return (self.channel, self.account, self.user_id)

    @property
    def last_name(self) -> str:
        """Family name: before the first space, else the first CJK character."""
        name = self.display_name.strip()
        if " " in name:
            return name.rsplit(" ", 1)[1]
        return name[:1] if len(name) > 1 and not name.isascii() else ""

    @property
    def first_name(self) -> str:
        name = self.display_name.strip()
        if " " in name:
            return name.rsplit(" ", 1)[0]
        return name[1:] if self.last_name else name

    def public(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "account": self.account,
            "user_id": self.user_id,
            "display_name": self.display_name,
            "following": self.following,
        }


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of a chat as the customer sees it.

    ``direction`` is ``in`` (customer to shop) or ``out`` (shop to customer);
    ``message`` is the platform's own JSON (the webhook's message/postback for
    ``in``, the message object the service sent for ``out``).
    """

    index: int
    direction: str
    time: datetime
    via: str
    message: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "direction": self.direction,
            "time": self.time.isoformat(),
            "via": self.via,
            "message": self.message,
        }


@dataclass(frozen=True)
class OutboundCall:
    """One API call the service made, with the status the emulator returned."""

    seq: int
    time: datetime
    channel: str
    endpoint: str
    account: str | None
    recipient: str | None
    messages: list[Any]
    status: int
    request_id: str | None = None
    retry_key: str | None = None
    delivered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "channel": self.channel,
            "endpoint": self.endpoint,
            "account": self.account,
            "recipient": self.recipient,
            "messages": self.messages,
            "status": self.status,
            "request_id": self.request_id,
            "retry_key": self.retry_key,
            "delivered": self.delivered,
        }


@dataclass(frozen=True)
class Media:
    """Bytes a customer "sent": a LINE image's content or a Messenger attachment."""

    media_id: str
    content: bytes
    content_type: str
    channel: str
    account: str

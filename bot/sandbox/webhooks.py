"""What a simulated person does in the chat, delivered as a real signed webhook.

Each action builds the platform's webhook body for one event, records it in the
person's transcript, signs the exact bytes with the account's secret, and POSTs
them over HTTP to the service's webhook URL, just as LINE or Meta would. The
service therefore runs its real signature check, parser and ingestion on every
sandbox message. ``redeliver`` and ``send_with_bad_signature`` reproduce the two
things a webhook endpoint must survive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from bot.sandbox import events, ids
from bot.sandbox.emulator import PlatformEmulator
from bot.sandbox.state import LINE, MESSENGER, SimUser

#: Sends (url, body, headers) and returns the HTTP status, or ``None`` when the
#: service could not be reached. The default posts with ``requests``.
Transport = Callable[[str, bytes, dict[str, str]], "int | None"]


def line_signature(channel_secret: str, body: bytes) -> str:
    """``x-line-signature``: base64 of HMAC-SHA256 over the raw body."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def messenger_signature(app_secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256``: ``sha256=`` + hex HMAC-SHA256 over the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook as sent, and the service's answer (``None``: no answer)."""

    channel: str
    account: str
    user_id: str
    url: str
    body: bytes
    status: int | None

    @property
    def event(self) -> dict[str, Any]:
        payload = json.loads(self.body)
        if self.channel == LINE:
            return payload["events"][0]
        return payload["entry"][0]["messaging"][0]


class CustomerActions:
    """Customer-side actions on an emulator; each returns the ``WebhookDelivery``."""

    def __init__(
        self,
        emulator: PlatformEmulator,
        *,
        timeout: float = 5.0,
        transport: Transport | None = None,
    ) -> None:
        self._emu = emulator
        self.timeout = timeout
        self._post = transport or self._http_post

    @property
    def emulator(self) -> PlatformEmulator:
        return self._emu

    def customer(
        self, channel: str, account: str, display_name: str, user_id: str | None = None
    ) -> Customer:
        """A person (created on first use) bound to one account, for story-like tests."""
        return Customer(self, self._emu.ensure_user(channel, account, display_name, user_id))

    def say(self, channel: str, account: str, user_id: str, text: str) -> WebhookDelivery:
        user = self._user(channel, account, user_id)
        record = {"kind": "text", "text": text}
        if channel == LINE:
            message = events.line_text(ids.numeric_id(), text, ids.token())
            return self._line(user, "message", record, message=message)
        return self._messenger(
            user, record, message=events.messenger_text(ids.messenger_mid(), text)
        )

    def tap(
        self,
        channel: str,
        account: str,
        user_id: str,
        data: str,
        *,
        label: str = "",
        display_text: str | None = None,
        quick_reply: bool = False,
    ) -> WebhookDelivery:
        """Tap a postback button (or, on Messenger, a quick reply) carrying ``data``."""
        user = self._user(channel, account, user_id)
        record = {"kind": "postback", "data": data, "label": label, "display_text": display_text}
        if channel == LINE:
            return self._line(user, "postback", record, postback={"data": data})
        mid = ids.messenger_mid()
        if quick_reply:
            record = {"kind": "quick_reply", "text": label, "data": data}
            return self._messenger(user, record, message=events.messenger_text(mid, label, data))
        return self._messenger(user, record, postback=events.messenger_postback(mid, label, data))

    def send_image(
        self,
        channel: str,
        account: str,
        user_id: str,
        content: bytes,
        content_type: str = "image/jpeg",
    ) -> WebhookDelivery:
        """Send a photo (a transfer slip, say): LINE keeps the bytes, Meta hosts a URL."""
        user = self._user(channel, account, user_id)
        if channel == LINE:
            message_id = ids.numeric_id()
            self._emu.store_media(content, content_type, LINE, account, media_id=message_id)
            record = {"kind": "image", "media_id": message_id}
            message = events.line_image(message_id, ids.token())
            return self._line(user, "message", record, message=message)
        media = self._emu.store_media(content, content_type, MESSENGER, account)
        message = events.messenger_image(ids.messenger_mid(), self._emu.media_url(media.media_id))
        return self._messenger(user, {"kind": "image", "media_id": media.media_id}, message=message)

    def send_sticker(
        self, account: str, user_id: str, package_id: str = "446", sticker_id: str = "1988"
    ) -> WebhookDelivery:
        user = self._user(LINE, account, user_id)
        record = {"kind": "sticker", "package_id": package_id, "sticker_id": sticker_id}
        message = events.line_sticker(ids.numeric_id(), package_id, sticker_id, ids.token())
        return self._line(user, "message", record, message=message)

    def follow(self, account: str, user_id: str) -> WebhookDelivery:
        """Add the LINE account as a friend, or unblock it."""
        user = self._user(LINE, account, user_id)
        with self._emu.lock:
            was_blocked, user.following = not user.following, True
        return self._line(user, "follow", {"kind": "follow"}, follow={"isUnblocked": was_blocked})

    def unfollow(self, account: str, user_id: str) -> WebhookDelivery:
        """Block the LINE account: no reply token, and pushes stop arriving."""
        user = self._user(LINE, account, user_id)
        with self._emu.lock:
            user.following = False
        return self._line(user, "unfollow", {"kind": "unfollow"}, reply=False)

    def open_link(self, account: str, user_id: str, ref: str) -> WebhookDelivery:
        """Open an ``m.me`` link with ``ref`` (this opens the 24-hour window too)."""
        user = self._user(MESSENGER, account, user_id)
        record = {"kind": "referral", "ref": ref}
        return self._messenger(user, record, referral=events.messenger_referral(ref))

    def redeliver(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """Send the same event again, as the platform does after a failed delivery.

        LINE keeps ``webhookEventId`` and ``replyToken`` and sets ``isRedelivery``;
        Messenger resends the identical body (same ``mid``).
        """
        body = delivery.body
        if delivery.channel == LINE:
            payload = json.loads(body)
            for event in payload["events"]:
                event["deliveryContext"]["isRedelivery"] = True
            body = _encode(payload)
        status = self._post(
            delivery.url, body, self._headers(delivery.channel, delivery.account, body)
        )
        return WebhookDelivery(
            delivery.channel, delivery.account, delivery.user_id, delivery.url, body, status
        )

    def send_with_bad_signature(self, delivery: WebhookDelivery) -> int | None:
        """Resend a body signed with the wrong secret; the service must refuse it."""
        headers = self._headers(delivery.channel, delivery.account, delivery.body, "wrong-secret")
        return self._post(delivery.url, delivery.body, headers)

    # -- plumbing ---------------------------------------------------------

    def _user(self, channel: str, account: str, user_id: str) -> SimUser:
        user = self._emu.user(channel, account, user_id)
        if user is None:
            raise LookupError(f"no sandbox user {user_id!r} on {channel} {account!r}")
        return user

    def _line(
        self, user: SimUser, event_type: str, record: dict, reply: bool = True, **content: Any
    ) -> WebhookDelivery:
        channel = self._emu.line_channel(user.account)
        now = self._emu.clock.now()
        reply_token = (
            self._emu.line.issue_reply_token(user.account, user.user_id) if reply else None
        )
        event = events.line_event(
            event_type,
            user.user_id,
            self._emu.clock.now_ms(),
            ids.ulid(now),
            reply_token,
            **content,
        )
        body = _encode(events.line_body(channel.bot_user_id, [event]))
        return self._deliver(user, channel.webhook_url, record, body)

    def _messenger(self, user: SimUser, record: dict, **content: Any) -> WebhookDelivery:
        page = self._emu.messenger_page(user.account)
        with self._emu.lock:
            user.last_inbound = self._emu.clock.now()
        now_ms = self._emu.clock.now_ms()
        event = events.messenger_event(user.user_id, page.page_id, now_ms, **content)
        body = _encode(events.messenger_body(page.page_id, now_ms, [event]))
        return self._deliver(user, page.webhook_url, record, body)

    def _deliver(
        self, user: SimUser, url: str | None, record: dict, body: bytes
    ) -> WebhookDelivery:
        if not url:
            raise RuntimeError(f"{user.channel} account {user.account!r} has no webhook URL")
        self._emu.append(user.key, "in", "webhook", record)
        status = self._post(url, body, self._headers(user.channel, user.account, body))
        return WebhookDelivery(user.channel, user.account, user.user_id, url, body, status)

    def _headers(
        self, channel: str, account: str, body: bytes, secret: str | None = None
    ) -> dict[str, str]:
        if channel == LINE:
            secret = secret or self._emu.line_channel(account).channel_secret
            return {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "LineBotWebhook/2.0",
                "x-line-signature": line_signature(secret, body),
            }
        secret = secret or self._emu.messenger_page(account).app_secret
        sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-Hub-Signature": f"sha1={sha1}",
            "X-Hub-Signature-256": messenger_signature(secret, body),
        }

    def _http_post(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        try:
            return requests.post(url, data=body, headers=headers, timeout=self.timeout).status_code
        except requests.RequestException:
            return None


class Customer:
    """One simulated person on one account: ``customer.says("我要買")``."""

    def __init__(self, actions: CustomerActions, user: SimUser) -> None:
        self._actions = actions
        self.user = user

    @property
    def user_id(self) -> str:
        return self.user.user_id

    def says(self, text: str) -> WebhookDelivery:
        return self._actions.say(self.user.channel, self.user.account, self.user_id, text)

    def taps(self, data: str, label: str = "", *, quick_reply: bool = False) -> WebhookDelivery:
        return self._actions.tap(
            self.user.channel,
            self.user.account,
            self.user_id,
            data,
            label=label,
            quick_reply=quick_reply,
        )

    def sends_image(self, content: bytes, content_type: str = "image/jpeg") -> WebhookDelivery:
        return self._actions.send_image(
            self.user.channel, self.user.account, self.user_id, content, content_type
        )

    def follows(self) -> WebhookDelivery:
        return self._actions.follow(self.user.account, self.user_id)

    def unfollows(self) -> WebhookDelivery:
        return self._actions.unfollow(self.user.account, self.user_id)

    def opens_link(self, ref: str) -> WebhookDelivery:
        return self._actions.open_link(self.user.account, self.user_id, ref)

    def seen(self) -> list[dict[str, Any]]:
        """The shop's messages this person has received so far, in order."""
        return self._actions.emulator.delivered(self.user.channel, self.user.account, self.user_id)


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

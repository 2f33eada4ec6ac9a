"""Webhook bodies in the platforms' exact shapes.

Keys and nesting follow what LINE and Meta send (see the fixtures in
shared/fixtures), so the service's parsers meet in the sandbox exactly what they
meet in production. These functions only build dictionaries; ``webhooks`` signs
and sends them.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


def line_event(
    event_type: str,
    user_id: str,
    timestamp_ms: int,
    event_id: str,
    reply_token: str | None = None,
    **content: Any,
) -> Event:
    """One LINE event from a 1:1 chat; ``content`` adds e.g. ``message=``/``postback=``."""
    event: Event = {
        "type": event_type,
        "mode": "active",
        "timestamp": timestamp_ms,
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    event.update({key: value for key, value in content.items() if value is not None})
    return event


def line_text(message_id: str, text: str, quote_token: str) -> dict[str, Any]:
    return {"id": message_id, "type": "text", "quoteToken": quote_token, "text": text}


def line_image(message_id: str, quote_token: str) -> dict[str, Any]:
    """An image whose bytes LINE keeps: fetched from the content endpoint by id."""
    return {
        "type": "image",
        "id": message_id,
        "contentProvider": {"type": "line"},
        "quoteToken": quote_token,
    }


def line_sticker(
    message_id: str, package_id: str, sticker_id: str, quote_token: str
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "sticker",
        "packageId": package_id,
        "stickerId": sticker_id,
        "stickerResourceType": "STATIC",
        "quoteToken": quote_token,
    }


def line_body(destination: str, events: list[Event]) -> dict[str, Any]:
    return {"destination": destination, "events": events}


def messenger_event(psid: str, page_id: str, timestamp_ms: int, **content: Any) -> Event:
    """One ``messaging`` item; ``content`` is ``message=``, ``postback=`` or ``referral=``."""
    return {
        "sender": {"id": psid},
        "recipient": {"id": page_id},
        "timestamp": timestamp_ms,
        **content,
    }


def messenger_text(mid: str, text: str, quick_reply_payload: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": mid, "text": text}
    if quick_reply_payload is not None:
        message["quick_reply"] = {"payload": quick_reply_payload}
    return message


def messenger_image(mid: str, url: str) -> dict[str, Any]:
    return {"mid": mid, "attachments": [{"type": "image", "payload": {"url": url}}]}


def messenger_postback(mid: str, title: str, payload: str) -> dict[str, Any]:
    return {"mid": mid, "title": title, "payload": payload}


def messenger_referral(ref: str) -> dict[str, Any]:
    """What an ``m.me/<page>?ref=...`` link produces when the thread opens."""
    return {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}


def messenger_body(page_id: str, timestamp_ms: int, events: list[Event]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": page_id, "time": timestamp_ms, "messaging": events}]}

"""Channel-neutral messages rendered as LINE message objects, within every limit.

The output is plain JSON dicts (the outbox stores them and ``LineClient`` sends
them), but each one is passed through the SDK's ``Message.from_dict`` and its
``to_dict``: the SDK's own model validation runs here, at render time, and what we
return is exactly what the SDK will serialise when sending.

Display text that is too long is shortened with "…". Text the customer must read
in full is never lost: a long text becomes several messages, and a template whose
body text overflows is preceded by the full text. Data that cannot be shortened
without breaking it (postback data, URLs) raises ``LineRenderError``: that is a bug
in whoever built the message, not something to paper over at send time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from linebot.v3.messaging import Message as SdkMessage

from bot.messages import (
    Action,
    Buttons,
    CameraRollAction,
    CardLine,
    Confirm,
    Image,
    Message,
    OrderCard,
    PostbackAction,
    Text,
)
from bot.text_limits import split_text, truncate, utf16_len

BATCH_SIZE = 5
TEXT_LIMIT = 5000
ALT_TEXT_LIMIT = 1500
TITLE_LIMIT = 40
BUTTONS_TEXT_LIMIT = 160
BUTTONS_TEXT_WITH_HEADER_LIMIT = 60
BUTTONS_ACTION_LIMIT = 4
CONFIRM_TEXT_LIMIT = 240
LABEL_LIMIT = 20
FLEX_LABEL_LIMIT = 40
POSTBACK_DATA_LIMIT = 300
DISPLAY_TEXT_LIMIT = 300
URI_LIMIT = 1000
IMAGE_URL_LIMIT = 2000
QUICK_REPLY_LIMIT = 13
FLEX_BUBBLE_BYTES = 30_000

_MUTED = "#888888"

JsonDict = dict[str, Any]


class LineRenderError(ValueError):
    """A message LINE would refuse and that truncation cannot fix."""


def render_line(messages: Sequence[Message]) -> list[list[JsonDict]]:
    """LINE message objects in request-sized batches (≤ 5 each), in order.

    Quick replies go on the last LINE message a neutral message produced, and are
    kept only on the last message of each batch: LINE shows them nowhere else.
    """
    rendered: list[JsonDict] = []
    for message in messages:
        parts = _render(message)
        items = [_quick_reply_item(a) for a in message.quick_replies[:QUICK_REPLY_LIMIT]]
        if items:
            parts[-1]["quickReply"] = {"items": items}
        rendered.extend(parts)
    batches = [rendered[i : i + BATCH_SIZE] for i in range(0, len(rendered), BATCH_SIZE)]
    for batch in batches:
        for part in batch[:-1]:
            part.pop("quickReply", None)
    return [[_validated(part) for part in batch] for batch in batches]


def _validated(part: JsonDict) -> JsonDict:
    try:
        return SdkMessage.from_dict(part).to_dict()
    except ValueError as exc:
        raise LineRenderError(f"line-bot-sdk rejects the rendered message: {exc}") from exc


def _render(message: Message) -> list[JsonDict]:
    if isinstance(message, Text):
        return _texts(message.text)
    if isinstance(message, Image):
        return [_image(message)]
    if isinstance(message, Buttons):
        return _buttons(message)
    if isinstance(message, Confirm):
        return _confirm(message)
    if isinstance(message, OrderCard):
        return [_order_card(message)]
    raise TypeError(f"not a message: {message!r}")


def _texts(text: str) -> list[JsonDict]:
    return [{"type": "text", "text": piece} for piece in split_text(text, TEXT_LIMIT)]


def _checked(value: str, limit: int, what: str) -> str:
    if utf16_len(value) > limit:
        raise LineRenderError(f"{what} is {utf16_len(value)} characters; LINE allows {limit}")
    return value


def _alt_text(message: Message, fallback: str) -> str:
    return truncate(message.alt_text or fallback, ALT_TEXT_LIMIT)


def _action(action: Action, label_limit: int) -> JsonDict:
    label = truncate(action.label, label_limit)
    if isinstance(action, PostbackAction):
        out = {
            "type": "postback",
            "label": label,
            "data": _checked(action.data, POSTBACK_DATA_LIMIT, "postback data"),
        }
        if action.display_text:
            out["displayText"] = truncate(action.display_text, DISPLAY_TEXT_LIMIT)
        return out
    if isinstance(action, CameraRollAction):
        return {"type": "cameraRoll", "label": label}
    return {"type": "uri", "label": label, "uri": _checked(action.url, URI_LIMIT, "uri")}


def _quick_reply_item(action: Action) -> JsonDict:
    return {"type": "action", "action": _action(action, LABEL_LIMIT)}


def _image(message: Image) -> JsonDict:
    return {
        "type": "image",
        "originalContentUrl": _checked(message.url, IMAGE_URL_LIMIT, "image url"),
        "previewImageUrl": _checked(
            message.preview_url or message.url, IMAGE_URL_LIMIT, "preview url"
        ),
    }


def _buttons(message: Buttons) -> list[JsonDict]:
    """Buttons templates of ≤ 4 actions each; extra actions spill into more
    templates that repeat the (short) text without title or image. Camera-roll
    actions only exist in quick replies and are dropped here."""
    actions = [
        _action(a, LABEL_LIMIT) for a in message.actions if not isinstance(a, CameraRollAction)
    ]
    heading = "\n".join(part for part in (message.title, message.text) if part)
    if not actions:
        return _texts(heading)
    has_header = bool(message.title or message.image_url)
    limit = BUTTONS_TEXT_WITH_HEADER_LIMIT if has_header else BUTTONS_TEXT_LIMIT
    parts = _texts(message.text) if utf16_len(message.text) > limit else []
    alt_text = _alt_text(message, heading)
    for start in range(0, len(actions), BUTTONS_ACTION_LIMIT):
        first = start == 0
        template: JsonDict = {
            "type": "buttons",
            "text": truncate(message.text, limit),
            "actions": actions[start : start + BUTTONS_ACTION_LIMIT],
        }
        if first and message.title:
            template["title"] = truncate(message.title, TITLE_LIMIT)
        if first and message.image_url:
            template["thumbnailImageUrl"] = _checked(
                message.image_url, IMAGE_URL_LIMIT, "thumbnail url"
            )
        parts.append({"type": "template", "altText": alt_text, "template": template})
    return parts


def _confirm(message: Confirm) -> list[JsonDict]:
    for action in (message.yes, message.no):
        if isinstance(action, CameraRollAction):
            raise LineRenderError("a confirm template cannot hold a camera-roll action")
    parts = _texts(message.text) if utf16_len(message.text) > CONFIRM_TEXT_LIMIT else []
    parts.append(
        {
            "type": "template",
            "altText": _alt_text(message, message.text),
            "template": {
                "type": "confirm",
                "text": truncate(message.text, CONFIRM_TEXT_LIMIT),
                "actions": [_action(message.yes, LABEL_LIMIT), _action(message.no, LABEL_LIMIT)],
            },
        }
    )
    return parts


def _order_card(message: OrderCard) -> JsonDict:
    """A Flex bubble; if a very long order would pass LINE's 30 KB bubble limit,
    the item list is cut short with a "… +N" row (the order page has it all)."""
    buttons = [
        {
            "type": "button",
            "style": "primary" if n == 0 else "secondary",
            "height": "sm",
            "action": _action(action, FLEX_LABEL_LIMIT),
        }
        for n, action in enumerate(
            a for a in message.actions if not isinstance(a, CameraRollAction)
        )
    ]
    shown = len(message.lines)
    while True:
        bubble = _bubble(message, shown, buttons)
        size = len(json.dumps(bubble, ensure_ascii=False).encode("utf-8"))
        if size <= FLEX_BUBBLE_BYTES:
            break
        if shown == 0:
            raise LineRenderError(f"order card is {size} bytes even without its lines")
        shown = min(shown - 1, shown * FLEX_BUBBLE_BYTES // size)
    fallback = " ".join(
        part for part in (message.title, message.order_number, message.total_text) if part
    )
    return {"type": "flex", "altText": _alt_text(message, fallback), "contents": bubble}


def _text(text: str | None, **style: Any) -> list[JsonDict]:
    """A Flex text node, or nothing: LINE rejects empty text nodes."""
    return [{"type": "text", "text": text, "wrap": True, **style}] if text else []


def _box(layout: str, contents: list[JsonDict], **style: Any) -> list[JsonDict]:
    return [{"type": "box", "layout": layout, "contents": contents, **style}] if contents else []


def _line_row(line: CardLine) -> JsonDict:
    return {
        "type": "box",
        "layout": "horizontal",
        "contents": [
            *_box(
                "vertical",
                _text(line.name, size="sm") + _text(line.variant, size="xs", color=_MUTED),
                flex=5,
            ),
            *_text(f"×{line.quantity}", size="sm", flex=1, align="end"),
            *_text(line.amount_text, size="sm", flex=3, align="end"),
        ],
    }


def _bubble(message: OrderCard, shown: int, buttons: list[JsonDict]) -> JsonDict:
    rows = [_line_row(line) for line in message.lines[:shown]]
    hidden = len(message.lines) - shown
    rows += _text(f"… +{hidden}" if hidden else None, size="sm", color=_MUTED)
    summary = [
        row
        for label, amount in message.summary
        for row in _box(
            "horizontal",
            _text(label, size="sm", color=_MUTED, flex=3)
            + _text(amount, size="sm", flex=3, align="end"),
        )
    ]
    summary += _text(message.total_text, size="md", weight="bold", align="end")
    separator = [{"type": "separator", "margin": "md"}]
    body = [
        *_text(message.title, size="lg", weight="bold"),
        *_text(message.order_number, size="xs", color=_MUTED),
        *separator,
        *_box("vertical", rows, margin="md", spacing="sm"),
        *separator,
        *_box("vertical", summary, margin="md", spacing="sm"),
        *_box(
            "vertical",
            _text(message.delivery_text, size="sm") + _text(message.payment_text, size="sm"),
            margin="md",
            spacing="xs",
        ),
    ]
    bubble: JsonDict = {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                                   "contents": body}}
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm",
                            "contents": buttons}
    return bubble

"""Channel-neutral messages rendered for the Messenger Send API, within every limit.

Each dict is the ``message`` field of one Send API request: Messenger takes one
message per request, so there are no batches. Quick replies are kept only on the
very last message, the only one that shows them. Messenger quick replies carry a
payload, never a URL, so URL actions are dropped from them; camera-roll actions
exist only on LINE and are dropped everywhere.

As on LINE, display text is shortened with "…" but text the customer must read is
never lost (a long text is split; a template whose text overflows is preceded by
the full text), and data that cannot be shortened (payloads) raises
``MessengerRenderError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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

TEXT_LIMIT = 1999  # Meta: text must be shorter than 2000 characters
BUTTON_TEXT_LIMIT = 640
BUTTONS_PER_TEMPLATE = 3
BUTTON_TITLE_LIMIT = 20
PAYLOAD_LIMIT = 1000
ELEMENT_TITLE_LIMIT = 80
ELEMENT_SUBTITLE_LIMIT = 80
QUICK_REPLY_LIMIT = 13
QUICK_REPLY_TITLE_LIMIT = 20

JsonDict = dict[str, Any]


class MessengerRenderError(ValueError):
    """A message Messenger would refuse and that truncation cannot fix."""


def render_messenger(messages: Sequence[Message]) -> list[JsonDict]:
    """``message`` objects for consecutive Send API requests, in order."""
    rendered: list[JsonDict] = []
    for message in messages:
        parts = _render(message)
        quick = [
            _quick_reply(a) for a in message.quick_replies if isinstance(a, PostbackAction)
        ][:QUICK_REPLY_LIMIT]
        if quick:
            parts[-1]["quick_replies"] = quick
        rendered.extend(parts)
    for part in rendered[:-1]:
        part.pop("quick_replies", None)
    return rendered


def _render(message: Message) -> list[JsonDict]:
    if isinstance(message, Text):
        return _texts(message.text)
    if isinstance(message, Image):
        return [_image(message.url)]
    if isinstance(message, Buttons):
        return _buttons(message)
    if isinstance(message, Confirm):
        return _confirm(message)
    if isinstance(message, OrderCard):
        return _order_card(message)
    raise TypeError(f"not a message: {message!r}")


def _texts(text: str) -> list[JsonDict]:
    return [{"text": piece} for piece in split_text(text, TEXT_LIMIT)]


def _image(url: str) -> JsonDict:
    return {"attachment": {"type": "image", "payload": {"url": url, "is_reusable": True}}}


def _payload(data: str) -> str:
    if utf16_len(data) > PAYLOAD_LIMIT:
        raise MessengerRenderError(
            f"payload is {utf16_len(data)} characters; Messenger allows {PAYLOAD_LIMIT}"
        )
    return data


def _quick_reply(action: PostbackAction) -> JsonDict:
    return {
        "content_type": "text",
        "title": truncate(action.label, QUICK_REPLY_TITLE_LIMIT),
        "payload": _payload(action.data),
    }


def _button(action: Action) -> JsonDict:
    title = truncate(action.label, BUTTON_TITLE_LIMIT)
    if isinstance(action, PostbackAction):
        return {"type": "postback", "title": title, "payload": _payload(action.data)}
    if isinstance(action, CameraRollAction):
        raise MessengerRenderError("Messenger has no camera-roll button")
    return {"type": "web_url", "url": action.url, "title": title, "webview_height_ratio": "tall"}


def _buttons_only(actions: Sequence[Action]) -> list[JsonDict]:
    return [_button(a) for a in actions if not isinstance(a, CameraRollAction)]


def _button_templates(text: str, buttons: list[JsonDict]) -> list[JsonDict]:
    """Button templates of ≤ 3 buttons, the full text first if it overflows 640."""
    parts = _texts(text) if utf16_len(text) > BUTTON_TEXT_LIMIT else []
    shown = truncate(text, BUTTON_TEXT_LIMIT)
    for start in range(0, len(buttons), BUTTONS_PER_TEMPLATE):
        payload = {
            "template_type": "button",
            "text": shown,
            "buttons": buttons[start : start + BUTTONS_PER_TEMPLATE],
        }
        parts.append({"attachment": {"type": "template", "payload": payload}})
    return parts


def _buttons(message: Buttons) -> list[JsonDict]:
    """A button template has no title or image: the title heads the text and the
    image goes first as its own attachment."""
    parts = [_image(message.image_url)] if message.image_url else []
    text = "\n".join(part for part in (message.title, message.text) if part)
    buttons = _buttons_only(message.actions)
    if not buttons:
        return parts + _texts(text)
    return parts + _button_templates(text, buttons)


def _confirm(message: Confirm) -> list[JsonDict]:
    return _button_templates(message.text, [_button(message.yes), _button(message.no)])


def _line_text(line: CardLine) -> str:
    name = f"{line.name} {line.variant}" if line.variant else line.name
    return f"{name} ×{line.quantity} {line.amount_text}"


def _order_card(message: OrderCard) -> list[JsonDict]:
    """A generic template element (title, short subtitle, ≤ 3 buttons). When the
    whole order does not fit the 80-character subtitle, a text with every line,
    the summary, delivery and payment follows; buttons beyond 3 spill into a
    button template after the card."""
    details = "\n".join(
        [_line_text(line) for line in message.lines]
        + [f"{label} {amount}" for label, amount in message.summary]
        + [message.total_text, message.delivery_text, message.payment_text]
    ).strip()
    fits = utf16_len(details) <= ELEMENT_SUBTITLE_LIMIT
    subtitle = details if fits else message.total_text
    title = " ".join(part for part in (message.title, message.order_number) if part)
    buttons = _buttons_only(message.actions)
    element: JsonDict = {"title": truncate(title, ELEMENT_TITLE_LIMIT)}
    if subtitle:
        element["subtitle"] = truncate(subtitle, ELEMENT_SUBTITLE_LIMIT)
    if buttons:
        element["buttons"] = buttons[:BUTTONS_PER_TEMPLATE]
    payload = {"template_type": "generic", "elements": [element]}
    parts = [{"attachment": {"type": "template", "payload": payload}}]
    if buttons[BUTTONS_PER_TEMPLATE:]:
        parts += _button_templates(title, buttons[BUTTONS_PER_TEMPLATE:])
    if not fits:
        parts += _texts(details)
    return parts

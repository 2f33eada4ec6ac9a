"""The Send API's limits on a message body.

Graph answers the first problem it finds as error 100 with a ``(#100)`` message,
so each check here returns that one message, or ``None`` when the body is fine.
"""

from __future__ import annotations

from typing import Any

MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
SENDER_ACTIONS = ("typing_on", "typing_off", "mark_seen")
HEIGHT_RATIOS = ("compact", "tall", "full")
TEXT_LIMIT = 2000
METADATA_LIMIT = 1000
PAYLOAD_LIMIT = 1000
TITLE_LIMIT = 20


def _param(path: list[str | int]) -> str:
    return path[0] + "".join(f"[{part}]" for part in path[1:])


def _text(obj: dict, key: str, path: list, limit: int, required: bool = True) -> str | None:
    """Checks a string field; ``limit`` is the longest length allowed."""
    value = obj.get(key)
    name = _param([*path, key])
    if value is None or value == "":
        return f"(#100) The parameter {name} is required" if required else None
    if not isinstance(value, str):
        return f"(#100) Param {name} must be a string"
    if len(value) > limit:
        return f"(#100) Param {name} must be at most {limit} characters"
    return None


def _items(obj: dict, key: str, path: list, low: int, high: int) -> tuple[list, str | None]:
    value = obj.get(key)
    if not isinstance(value, list) or not low <= len(value) <= high:
        return [], f"(#100) Param {_param([*path, key])} must have {low} to {high} items"
    return value, None


def validate_send(body: dict[str, Any]) -> str | None:
    """The first problem with a ``/me/messages`` body, else ``None``."""
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not recipient.get("id"):
        return "(#100) The parameter recipient is required"
    message, action = body.get("message"), body.get("sender_action")
    if (message is None) == (action is None):
        return "(#100) Send exactly one of message and sender_action"
    if action is not None:
        return None if action in SENDER_ACTIONS else "(#100) Param sender_action is invalid"
    if body.get("messaging_type") not in MESSAGING_TYPES:
        return "(#100) Param messaging_type must be one of RESPONSE, UPDATE, MESSAGE_TAG"
    if body["messaging_type"] == "MESSAGE_TAG" and not body.get("tag"):
        return "(#100) The parameter tag is required with messaging_type MESSAGE_TAG"
    if not isinstance(message, dict):
        return "(#100) Param message must be an object"
    return _message(message)


def _message(message: dict) -> str | None:
    path = ["message"]
    has_text, attachment = "text" in message, message.get("attachment")
    if has_text == (attachment is not None):
        return "(#100) Message must have exactly one of text and attachment"
    if has_text:
        text = message["text"]
        if not isinstance(text, str) or not text:
            return "(#100) The parameter message[text] is required"
        if len(text) >= TEXT_LIMIT:
            return f"(#100) Param message[text] must be less than {TEXT_LIMIT} characters"
    else:
        problem = _attachment(attachment, [*path, "attachment"])
        if problem:
            return problem
    metadata = message.get("metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) >= METADATA_LIMIT):
        return f"(#100) Param message[metadata] must be less than {METADATA_LIMIT} characters"
    if "quick_replies" in message:
        return _quick_replies(message, path)
    return None


def _attachment(attachment: Any, path: list) -> str | None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        return f"(#100) The parameter {_param([*path, 'payload'])} is required"
    payload, kind = attachment["payload"], attachment.get("type")
    if kind in ("image", "audio", "video", "file"):
        if payload.get("attachment_id"):
            return None
        url = payload.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return f"(#100) Param {_param([*path, 'payload', 'url'])} must be a valid URL"
        return None
    if kind != "template":
        return f"(#100) Param {_param([*path, 'type'])} is invalid"
    path = [*path, "payload"]
    template = payload.get("template_type")
    if template == "button":
        buttons, problem = _items(payload, "buttons", path, 1, 3)
        return _text(payload, "text", path, 640) or problem or _buttons(buttons, path)
    if template == "generic":
        elements, problem = _items(payload, "elements", path, 1, 10)
        if problem:
            return problem
        for i, element in enumerate(elements):
            problem = _element(element, [*path, "elements", i])
            if problem:
                return problem
        return None
    return f"(#100) Param {_param([*path, 'template_type'])} is invalid"


def _element(element: Any, path: list) -> str | None:
    if not isinstance(element, dict):
        return f"(#100) Param {_param(path)} must be an object"
    problem = _text(element, "title", path, 80) or _text(element, "subtitle", path, 80, False)
    if problem:
        return problem
    if "buttons" not in element:
        return None
    buttons, problem = _items(element, "buttons", path, 1, 3)
    return problem or _buttons(buttons, path)


def _buttons(buttons: list, path: list) -> str | None:
    for i, button in enumerate(buttons):
        where = [*path, "buttons", i]
        if not isinstance(button, dict):
            return f"(#100) Param {_param(where)} must be an object"
        kind = button.get("type")
        problem = _text(button, "title", where, TITLE_LIMIT)
        if kind in ("postback", "phone_number"):
            problem = problem or _text(button, "payload", where, PAYLOAD_LIMIT)
        elif kind == "web_url":
            problem = problem or _text(button, "url", where, 2000)
            ratio = button.get("webview_height_ratio")
            if not problem and ratio is not None and ratio not in HEIGHT_RATIOS:
                problem = f"(#100) Param {_param([*where, 'webview_height_ratio'])} is invalid"
        else:
            problem = problem or f"(#100) Param {_param([*where, 'type'])} is invalid"
        if problem:
            return problem
    return None


def _quick_replies(message: dict, path: list) -> str | None:
    replies, problem = _items(message, "quick_replies", path, 1, 13)
    if problem:
        return problem
    for i, reply in enumerate(replies):
        where = [*path, "quick_replies", i]
        if not isinstance(reply, dict):
            return f"(#100) Param {_param(where)} must be an object"
        kind = reply.get("content_type")
        if kind == "text":
            problem = _text(reply, "title", where, TITLE_LIMIT) or _text(
                reply, "payload", where, PAYLOAD_LIMIT
            )
        elif kind not in ("user_phone_number", "user_email"):
            problem = f"(#100) Param {_param([*where, 'content_type'])} is invalid"
        if problem:
            return problem
    return None

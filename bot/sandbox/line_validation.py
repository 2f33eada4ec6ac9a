"""LINE's server-side limits on message objects.

The SDK's models check only a few limits before sending; LINE rejects the rest
with 400 and a list of ``{message, property}`` details. Checking them here means a
message the service builds too long fails in tests instead of in a shop's chat.
Lengths are counted in UTF-16 code units, as LINE does (an emoji counts 2).
"""

from __future__ import annotations

import json
from typing import Any

MAX_MESSAGES = 5
TEXT_MAX = 5000
ALT_TEXT_MAX = 1500
URL_MAX = 2000
QUICK_REPLY_MAX = 13
FLEX_BUBBLE_BYTES = 30 * 1024
FLEX_CAROUSEL_BYTES = 50 * 1024
FLEX_CAROUSEL_BUBBLES = 12

URI_SCHEMES = ("http://", "https://", "line://", "tel:")
CAMERA_ACTIONS = ("camera", "cameraRoll", "location")
INPUT_OPTIONS = ("closeRichMenu", "openRichMenu", "openKeyboard", "openVoice")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Checker:
    """Collects every violation, like LINE's error ``details``."""

    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def fail(self, prop: str, message: str) -> None:
        self.details.append({"message": message, "property": prop})

    def text(self, obj: dict, key: str, prop: str, limit: int, required: bool = True) -> None:
        value = obj.get(key)
        where = f"{prop}.{key}"
        if value is None or value == "":
            if required:
                self.fail(where, "May not be empty")
            return
        if not isinstance(value, str):
            self.fail(where, "Must be a string")
        elif utf16_len(value) > limit:
            self.fail(where, f"Length must be between 0 and {limit}")

    def url(self, obj: dict, key: str, prop: str, required: bool = True) -> None:
        self.text(obj, key, prop, URL_MAX, required)
        value = obj.get(key)
        if isinstance(value, str) and value and not value.startswith(("http://", "https://")):
            self.fail(f"{prop}.{key}", "Must be an http or https URL")

    def items(self, obj: dict, key: str, prop: str, low: int, high: int) -> list[Any]:
        value = obj.get(key)
        if not isinstance(value, list) or not low <= len(value) <= high:
            self.fail(f"{prop}.{key}", f"Size must be between {low} and {high}")
            return value if isinstance(value, list) else []
        return value


def validate_messages(messages: Any) -> list[dict[str, str]]:
    """All violations in a reply/push ``messages`` array (empty when valid)."""
    check = _Checker()
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        check.fail("messages", f"Size must be between 1 and {MAX_MESSAGES}")
        return check.details
    for index, message in enumerate(messages):
        _message(check, message, f"messages[{index}]")
    return check.details


def _message(check: _Checker, message: Any, prop: str) -> None:
    if not isinstance(message, dict):
        check.fail(prop, "Must be an object")
        return
    kind = message.get("type")
    if kind in ("text", "textV2"):
        check.text(message, "text", prop, TEXT_MAX)
    elif kind == "image":
        check.url(message, "originalContentUrl", prop)
        check.url(message, "previewImageUrl", prop)
    elif kind == "sticker":
        check.text(message, "packageId", prop, 100)
        check.text(message, "stickerId", prop, 100)
    elif kind == "template":
        check.text(message, "altText", prop, ALT_TEXT_MAX)
        _template(check, message.get("template"), f"{prop}.template")
    elif kind == "flex":
        check.text(message, "altText", prop, ALT_TEXT_MAX)
        _flex(check, message.get("contents"), f"{prop}.contents")
    else:
        check.fail(f"{prop}.type", "Invalid message type")
    if "quickReply" in message:
        _quick_reply(check, message["quickReply"], f"{prop}.quickReply")


def _template(check: _Checker, template: Any, prop: str) -> None:
    if not isinstance(template, dict):
        check.fail(prop, "May not be empty")
        return
    kind = template.get("type")
    if kind == "buttons":
        _buttons(check, template, prop, text_max=160, actions_max=4)
    elif kind == "confirm":
        check.text(template, "text", prop, 240)
        for i, action in enumerate(check.items(template, "actions", prop, 2, 2)):
            _action(check, action, f"{prop}.actions[{i}]", label_max=20)
    elif kind == "carousel":
        for i, column in enumerate(check.items(template, "columns", prop, 1, 10)):
            column_prop = f"{prop}.columns[{i}]"
            if isinstance(column, dict):
                _buttons(check, column, column_prop, text_max=120, actions_max=3)
            else:
                check.fail(column_prop, "Must be an object")
    else:
        check.fail(f"{prop}.type", "Invalid template type")


def _buttons(check: _Checker, obj: dict, prop: str, text_max: int, actions_max: int) -> None:
    """A buttons template or carousel column: shorter text when it has a header."""
    has_header = bool(obj.get("title") or obj.get("thumbnailImageUrl"))
    check.text(obj, "title", prop, 40, required=False)
    check.text(obj, "text", prop, 60 if has_header else text_max)
    if obj.get("thumbnailImageUrl") is not None:
        check.url(obj, "thumbnailImageUrl", prop)
    for i, action in enumerate(check.items(obj, "actions", prop, 1, actions_max)):
        _action(check, action, f"{prop}.actions[{i}]", label_max=20)
    if "defaultAction" in obj:
        _action(check, obj["defaultAction"], f"{prop}.defaultAction", 20, label_required=False)


def _action(
    check: _Checker,
    action: Any,
    prop: str,
    label_max: int,
    label_required: bool = True,
    in_quick_reply: bool = False,
) -> None:
    if not isinstance(action, dict):
        check.fail(prop, "Must be an object")
        return
    kind = action.get("type")
    check.text(action, "label", prop, label_max, required=label_required)
    if kind == "postback":
        check.text(action, "data", prop, 300)
        check.text(action, "displayText", prop, 300, required=False)
        check.text(action, "text", prop, 300, required=False)
        check.text(action, "fillInText", prop, 300, required=False)
        option = action.get("inputOption")
        if option is not None and option not in INPUT_OPTIONS:
            check.fail(f"{prop}.inputOption", "Invalid input option")
    elif kind == "message":
        check.text(action, "text", prop, 300)
    elif kind == "uri":
        check.text(action, "uri", prop, 1000)
        uri = action.get("uri")
        if isinstance(uri, str) and uri and not uri.startswith(URI_SCHEMES):
            check.fail(f"{prop}.uri", "Scheme must be http, https, line or tel")
    elif kind == "datetimepicker":
        check.text(action, "data", prop, 300)
        if action.get("mode") not in ("date", "time", "datetime"):
            check.fail(f"{prop}.mode", "Invalid mode")
    elif kind == "clipboard":
        check.text(action, "clipboardText", prop, 1000)
    elif kind in CAMERA_ACTIONS:
        if not in_quick_reply:
            check.fail(f"{prop}.type", f"{kind} action is available only in quick reply")
    else:
        check.fail(f"{prop}.type", "Invalid action type")


def _quick_reply(check: _Checker, quick_reply: Any, prop: str) -> None:
    if not isinstance(quick_reply, dict):
        check.fail(prop, "Must be an object")
        return
    for i, item in enumerate(check.items(quick_reply, "items", prop, 1, QUICK_REPLY_MAX)):
        item_prop = f"{prop}.items[{i}]"
        if not isinstance(item, dict) or item.get("type") != "action":
            check.fail(f"{item_prop}.type", "Must be action")
            continue
        if item.get("imageUrl") is not None:
            check.url(item, "imageUrl", item_prop)
        _action(check, item.get("action"), f"{item_prop}.action", 20, in_quick_reply=True)


def _flex(check: _Checker, contents: Any, prop: str) -> None:
    if not isinstance(contents, dict):
        check.fail(prop, "May not be empty")
        return
    size = len(json.dumps(contents, ensure_ascii=False).encode("utf-8"))
    if contents.get("type") == "bubble":
        if size > FLEX_BUBBLE_BYTES:
            check.fail(prop, f"Size must be at most {FLEX_BUBBLE_BYTES} bytes")
        _flex_actions(check, contents, prop)
    elif contents.get("type") == "carousel":
        bubbles = check.items(contents, "contents", prop, 1, FLEX_CAROUSEL_BUBBLES)
        if size > FLEX_CAROUSEL_BYTES:
            check.fail(prop, f"Size must be at most {FLEX_CAROUSEL_BYTES} bytes")
        for i, bubble in enumerate(bubbles):
            _flex_actions(check, bubble, f"{prop}.contents[{i}]")
    else:
        check.fail(f"{prop}.type", "Invalid flex container type")


def _flex_actions(check: _Checker, node: Any, prop: str) -> None:
    """Walk a bubble: every component's action obeys the action rules (label ≤ 40)."""
    if isinstance(node, list):
        for i, child in enumerate(node):
            _flex_actions(check, child, f"{prop}[{i}]")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "action":
            required = node.get("type") == "button"
            _action(check, value, f"{prop}.action", 40, label_required=required)
        elif isinstance(value, (dict, list)):
            _flex_actions(check, value, f"{prop}.{key}")

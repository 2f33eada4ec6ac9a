"""Channel-neutral outbound messages.

Flows say what to tell the customer with these small values; the sender renders
them per channel (``line_render``, ``messenger_render``), which is where every
platform limit is applied. They are stored in the outbox between the commit that
caused them and delivery, so each one round-trips through plain JSON types.

Every message may carry quick replies (shown under the last message sent) and an
``alt_text`` (LINE shows it in notifications and chat lists for rich messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PostbackAction:
    """A button whose tap comes back to us as a postback with ``data``.

    ``display_text`` is what LINE shows in the chat as the user's message; keep it
    short and human. Messenger has no equivalent and shows the label instead.
    """

    label: str
    data: str
    display_text: str | None = None


@dataclass(frozen=True, slots=True)
class UrlAction:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class CameraRollAction:
    """Opens the photo picker: handy for a transfer slip. LINE quick replies only;
    every other place drops it."""

    label: str


Action = PostbackAction | UrlAction | CameraRollAction


def _tuple(obj: Any, name: str) -> None:
    object.__setattr__(obj, name, tuple(getattr(obj, name)))


def _check_actions(actions: Sequence[Action]) -> None:
    for action in actions:
        if not isinstance(action, (PostbackAction, UrlAction, CameraRollAction)):
            raise TypeError(f"not an action: {action!r}")
        if not action.label:
            raise ValueError("an action needs a label")


class _Outbound:
    """Gives each message ``to_dict``; the serialisation lives in one function."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return message_to_dict(self)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Text(_Outbound):
    text: str
    quick_replies: tuple[Action, ...] = ()
    alt_text: str | None = None

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a text message needs some text")
        _tuple(self, "quick_replies")
        _check_actions(self.quick_replies)


@dataclass(frozen=True, slots=True)
class Image(_Outbound):
    url: str
    preview_url: str | None = None
    quick_replies: tuple[Action, ...] = ()
    alt_text: str | None = None

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError("an image message needs a url")
        _tuple(self, "quick_replies")
        _check_actions(self.quick_replies)


@dataclass(frozen=True, slots=True)
class Buttons(_Outbound):
    text: str
    actions: tuple[Action, ...]
    title: str | None = None
    image_url: str | None = None
    quick_replies: tuple[Action, ...] = ()
    alt_text: str | None = None

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a buttons message needs some text")
        _tuple(self, "actions")
        _tuple(self, "quick_replies")
        if not self.actions:
            raise ValueError("a buttons message needs at least one action")
        _check_actions(self.actions + self.quick_replies)


@dataclass(frozen=True, slots=True)
class Confirm(_Outbound):
    text: str
    yes: Action
    no: Action
    quick_replies: tuple[Action, ...] = ()
    alt_text: str | None = None

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a confirm message needs some text")
        _tuple(self, "quick_replies")
        _check_actions((self.yes, self.no) + self.quick_replies)


@dataclass(frozen=True, slots=True)
class CardLine:
    name: str
    variant: str | None
    quantity: int
    amount_text: str


@dataclass(frozen=True, slots=True)
class OrderCard(_Outbound):
    """An order summary with its buttons (confirm, pay, ...). Amounts arrive as
    display text: formatting money belongs to the store's locale, not to chat."""

    title: str
    order_number: str
    lines: tuple[CardLine, ...]
    summary: tuple[tuple[str, str], ...]
    total_text: str
    delivery_text: str
    payment_text: str
    actions: tuple[Action, ...] = ()
    quick_replies: tuple[Action, ...] = ()
    alt_text: str | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("an order card needs a title")
        _tuple(self, "lines")
        object.__setattr__(self, "summary", tuple((str(a), str(b)) for a, b in self.summary))
        _tuple(self, "actions")
        _tuple(self, "quick_replies")
        _check_actions(self.actions + self.quick_replies)


Message = Text | Image | Buttons | Confirm | OrderCard


def action_to_dict(action: Action) -> dict[str, Any]:
    if isinstance(action, PostbackAction):
        return {
            "type": "postback",
            "label": action.label,
            "data": action.data,
            "display_text": action.display_text,
        }
    if isinstance(action, UrlAction):
        return {"type": "url", "label": action.label, "url": action.url}
    return {"type": "camera_roll", "label": action.label}


def action_from_dict(data: dict[str, Any]) -> Action:
    kind = data["type"]
    if kind == "postback":
        return PostbackAction(data["label"], data["data"], data.get("display_text"))
    if kind == "url":
        return UrlAction(data["label"], data["url"])
    if kind == "camera_roll":
        return CameraRollAction(data["label"])
    raise ValueError(f"unknown action type {kind!r}")


def _actions(actions: Sequence[Action]) -> list[dict[str, Any]]:
    return [action_to_dict(a) for a in actions]


def message_to_dict(message: Message) -> dict[str, Any]:
    """Plain JSON form of any message, for the outbox."""
    common = {"quick_replies": _actions(message.quick_replies), "alt_text": message.alt_text}
    if isinstance(message, Text):
        return {"type": "text", "text": message.text, **common}
    if isinstance(message, Image):
        return {"type": "image", "url": message.url, "preview_url": message.preview_url, **common}
    if isinstance(message, Buttons):
        return {
            "type": "buttons",
            "text": message.text,
            "actions": _actions(message.actions),
            "title": message.title,
            "image_url": message.image_url,
            **common,
        }
    if isinstance(message, Confirm):
        return {
            "type": "confirm",
            "text": message.text,
            "yes": action_to_dict(message.yes),
            "no": action_to_dict(message.no),
            **common,
        }
    if isinstance(message, OrderCard):
        return {
            "type": "order_card",
            "title": message.title,
            "order_number": message.order_number,
            "lines": [
                {"name": ln.name, "variant": ln.variant, "quantity": ln.quantity,
                 "amount_text": ln.amount_text}
                for ln in message.lines
            ],
            "summary": [list(row) for row in message.summary],
            "total_text": message.total_text,
            "delivery_text": message.delivery_text,
            "payment_text": message.payment_text,
            "actions": _actions(message.actions),
            **common,
        }
    raise TypeError(f"not a message: {message!r}")


def message_from_dict(data: dict[str, Any]) -> Message:
    """Rebuild a message written by ``to_dict``; raises ValueError on a bad entry."""
    try:
        return _from_dict(data)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a message: {exc!r}") from exc


def _from_dict(data: dict[str, Any]) -> Message:
    kind = data["type"]
    common = {
        "quick_replies": tuple(action_from_dict(a) for a in data.get("quick_replies", ())),
        "alt_text": data.get("alt_text"),
    }
    if kind == "text":
        return Text(data["text"], **common)
    if kind == "image":
        return Image(data["url"], data.get("preview_url"), **common)
    if kind == "buttons":
        return Buttons(
            data["text"],
            tuple(action_from_dict(a) for a in data["actions"]),
            title=data.get("title"),
            image_url=data.get("image_url"),
            **common,
        )
    if kind == "confirm":
        return Confirm(
            data["text"], action_from_dict(data["yes"]), action_from_dict(data["no"]), **common
        )
    if kind == "order_card":
        return OrderCard(
            title=data["title"],
            order_number=data["order_number"],
            lines=tuple(
                CardLine(ln["name"], ln.get("variant"), int(ln["quantity"]), ln["amount_text"])
                for ln in data["lines"]
            ),
            summary=tuple((label, amount) for label, amount in data["summary"]),
            total_text=data["total_text"],
            delivery_text=data["delivery_text"],
            payment_text=data["payment_text"],
            actions=tuple(action_from_dict(a) for a in data.get("actions", ())),
            **common,
        )
    raise ValueError(f"unknown message type {kind!r}")

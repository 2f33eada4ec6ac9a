"""Messages as flows say them: the plain JSON form of ``bot.messages``.

Flows sit below the bot layer and may not import it, yet what they say ends up
in the outbox as exactly this JSON (``bot.messages.message_from_dict`` reads it
back). So they build the dicts directly with these helpers. A message meant for
the merchant's admins rather than the customer is wrapped with ``to_admins``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

JsonDict = dict[str, Any]
ADMINS = "admins"


def postback(label: str, data: str, display_text: str | None = None) -> JsonDict:
    return {"type": "postback", "label": label, "data": data, "display_text": display_text}


def link(label: str, url: str) -> JsonDict:
    return {"type": "url", "label": label, "url": url}


def camera_roll(label: str) -> JsonDict:
    return {"type": "camera_roll", "label": label}


def text(body: str, quick_replies: Sequence[JsonDict] = ()) -> JsonDict:
    return {"type": "text", "text": body, "quick_replies": list(quick_replies)}


def buttons(body: str, actions: Sequence[JsonDict], title: str | None = None) -> JsonDict:
    return {"type": "buttons", "text": body, "actions": list(actions), "title": title,
            "quick_replies": []}


def to_admins(message: JsonDict) -> JsonDict:
    """Addressed to every merchant admin instead of the conversation's customer."""
    return {"audience": ADMINS, "message": message}


def is_for_admins(said: Any) -> bool:
    return isinstance(said, dict) and said.get("audience") == ADMINS

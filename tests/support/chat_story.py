"""What a person in the sandbox saw, and small story steps for chat tests:
``say_and_wait(boss, "/order ...", "已建立訂單")``, ``place_order(...)``."""

from __future__ import annotations

from typing import Any

from commerce.identity import ConversationKey
from commerce.order_status import OrderStatus
from tests.support.live_shop import wait_until


def texts(person) -> list[str]:
    return [m.get("text") or m.get("altText") or _template_text(m) for m in person.seen()]


def _template_text(message: dict) -> str:
    payload = (message.get("attachment") or {}).get("payload") or {}
    if payload.get("text"):
        return payload["text"]
    elements = payload.get("elements") or [{}]
    return elements[0].get("title", "")


def actions(person, kind: str = "postback") -> list[tuple[str, str]]:
    """Every (label, data-or-url) of one kind in what the person saw, in order."""
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind and ("label" in node or "title" in node):
                value = node.get("data") or node.get("payload") or node.get("uri") \
                    or node.get("url")
                found.append((node.get("label") or node.get("title"), value))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for message in person.seen():
        walk(message)
        for quick in message.get("quick_replies", []):  # Messenger quick replies
            found.append((quick["title"], quick["payload"])) if kind == "postback" else None
    return found


def link_kind(channel: str) -> str:
    return "uri" if channel == "line" else "web_url"


def conversation(shop, person):
    key = ConversationKey(person.user.channel, person.user.account, person.user_id)
    return shop.container.conversations.ensure(key)


def say_and_wait(person, text: str, expected: str | None = None) -> None:
    before = len(texts(person))
    person.says(text)
    wait_until(lambda: len(texts(person)) > before and (
        expected is None or any(expected in t for t in texts(person)[before:])),
        message=f"an answer to {text!r}")


def place_order(shop, boss, customer, terms: str = "TEA-OOLONG*2 CHOP-5*1") -> str:
    short = conversation(shop, customer).short_id
    say_and_wait(boss, f"/order {short} {terms}", "已建立訂單")
    created = [t for t in texts(boss) if t.startswith("已建立訂單")][-1]
    number = created.split()[1].split("（")[0]
    wait_until(lambda: any(number in t for t in texts(customer)), message="the order card")
    return number


def confirm_data(customer, number: str) -> list[str]:
    return [d for label, d in actions(customer) if d.startswith(f"order.confirm:{number}:")]


def status(shop, number: str) -> OrderStatus:
    return shop.container.orders.get(number).status

"""What every command handler gets: the services, the event, and small helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.messages import Message, Text, message_from_dict
from bot.order_cards import CardSender
from bot.routing import InboundContext, Reply
from commerce.services.order_views import OrderView
from flows.definitions.services import FlowServices


@dataclass
class CommandDeps:
    admins: Any  # commerce.services.admin_service.AdminService
    conversations: Any  # ConversationService
    customers: Any  # CustomerService
    orders: Any  # OrderService
    catalog: Any  # CatalogService
    bindings: Any  # BindingService
    cards: CardSender
    services: FlowServices
    default_delivery: str
    default_payment: str


def actor(ctx: InboundContext) -> str:
    """Who did it, for the order's history (the column holds 60 characters)."""
    return f"merchant:{ctx.conversation.display_name or ctx.conversation.short_id}"[:60]


def answer(text: str) -> Reply:
    """A reply to the merchant who typed the command."""
    return Reply((Text(text),))


def tell_customer(order: OrderView, said: Sequence[dict | Message]) -> list[Reply]:
    """An order update for the order's chat: an automated update (Messenger holds it
    outside the 24-hour window) that is dropped if the order has moved on by then."""
    if order.conversation_id is None:
        return []
    messages = tuple(m if not isinstance(m, dict) else message_from_dict(m) for m in said)
    return [Reply(messages, conversation_id=order.conversation_id, automated_update=True,
                  applies_if={"order": order.number, "status": order.status.value})]


Handler = Callable[[CommandDeps, InboundContext, Any], list[Reply]]

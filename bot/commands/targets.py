"""Who ``<customer>`` names: a conversation's short id, or a member's phone or e-mail."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.context import CommandDeps
from commerce.errors import NotFound
from commerce.services.conversation_service import ConversationView


@dataclass(frozen=True)
class Target:
    conversation: ConversationView | None
    customer_id: int | None

    @property
    def label(self) -> str:
        if self.conversation is not None:
            return self.conversation.label
        return f"#{self.customer_id}"


def resolve(deps: CommandDeps, word: str) -> Target:
    """The conversation and customer record ``word`` names; NotFound if neither."""
    conv = deps.conversations.find(word)
    if conv is not None:
        return Target(conv, conv.customer_id)
    customer_id = deps.customers.find_by_contact(word)
    if customer_id is None:
        raise NotFound(f"找不到顧客「{word}」：請用 /customers 查短代碼，或輸入會員手機、Email")
    conversation_id = deps.bindings.conversation_for_customer(customer_id)
    conv = deps.conversations.get(conversation_id) if conversation_id else None
    return Target(conv, customer_id)


def customer_id_of(deps: CommandDeps, target: Target) -> int:
    """The target's customer record, created for a chat that has none yet."""
    if target.customer_id is not None:
        return target.customer_id
    conv = target.conversation
    name = conv.display_name or f"{conv.channel} {conv.short_id}"
    return deps.bindings.ensure_customer(conv.id, name)

"""Sending messages that no inbound event asked for: order updates from the web
order page or the console, merchant alerts. Same outbox, same sender, same rules
(the Messenger window, held updates) as replies."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.messages import Message
from bot.outbox import OutboundBatch, Outbox
from bot.sender import Sender
from commerce.services.conversation_service import ConversationService


class Notifier:
    def __init__(self, outbox: Outbox, sender: Sender,
                 conversations: ConversationService) -> None:
        self._outbox, self._sender, self._conversations = outbox, sender, conversations
        self.admin_conversations: Callable[[], list[int]] = list

    def send(self, conversation_id: int, messages: Sequence[Message], *,
             automated_update: bool = False, human: bool = False,
             applies_if: dict | None = None, internal: bool = False) -> str:
        """Queue and try to deliver now; returns the sender's outcome."""
        batch = OutboundBatch(conversation_id=conversation_id, messages=tuple(messages),
                              automated_update=automated_update, human=human,
                              applies_if=applies_if, internal=internal)
        self._outbox.enqueue([batch])
        return self._sender.deliver(batch.batch_id)

    def tell_admins(self, messages: Sequence[Message]) -> int:
        """Alert every merchant admin's conversation; returns how many were reached."""
        reached = 0
        for conversation_id in self.admin_conversations():
            reached += self.send(conversation_id, messages, internal=True) == "sent"
        return reached

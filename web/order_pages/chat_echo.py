"""Repeats what the customer did on the order page in their chat.

The chat is where the customer and the merchant talk, so the conversation history
should show a confirmation or a proof the same way whether it happened by a chat
button or on the page. The merchant's admins are told about proofs, since someone
has to check the bank statement.
"""

from __future__ import annotations

import logging

from bot.messages import Text
from commerce.services.order_views import OrderView

log = logging.getLogger("chatcart.order_page")


def tell_customer(container, order: OrderView, text: str, *,  # noqa: ANN001
                  admins: str | None = None) -> None:
    """Best effort: the order change is already committed, so a chat outage must not
    turn it into an error page that invites the customer to do it again."""
    try:
        notifier = container.chat.notifier
        if order.conversation_id is not None:
            notifier.send(order.conversation_id, [Text(text)], automated_update=True,
                          applies_if={"order": order.number, "status": order.status.value})
        if admins:
            notifier.tell_admins([Text(admins)])
    except Exception:
        log.exception("could not tell the chat about order %s", order.number)

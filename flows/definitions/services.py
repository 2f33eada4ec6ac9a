"""What the chat flows may read, and the commerce commands they ask for.

Guards read current facts through ``FlowServices`` (is this order still waiting
for confirmation? is this card the newest one?). Actions never write: they ask
for ``Command``s, which ``run_commands`` executes in the engine's ``before_save``
hook, so a refused command (an order cancelled a moment ago) leaves the flow
where it was and nothing is said about a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flows.engine import Command
from flows.texts import Texts


@dataclass(frozen=True)
class CardRecord:
    """The newest order card sent for an order: its version and page token."""

    version: str
    token: str


class CardLookup(Protocol):
    def current(self, number: str) -> CardRecord | None: ...


@dataclass
class FlowServices:
    """Ports the flow definitions use; the composition root fills them."""

    orders: Any  # commerce.services.order_service.OrderService
    bindings: Any  # commerce.services.binding_service.BindingService
    codes: Any  # flows.binding_codes.BindingCodeRegistry (mark_bound)
    cards: CardLookup
    texts: Texts
    payment_methods: Mapping[str, Any]
    delivery_methods: Mapping[str, Any]
    public_base_url: str
    payment_deadline: timedelta = timedelta(hours=72)
    timezone: str = "Asia/Taipei"

    def page_url(self, number: str, suffix: str = "") -> str | None:
        """The customer's order page as linked from the newest card, if one was sent."""
        card = self.cards.current(number)
        if card is None:
            return None
        return f"{self.public_base_url}/o/{card.token}{suffix}"

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M")

    def method_name(self, methods: Mapping[str, Any], code: str) -> str:
        method = methods.get(code)
        if method is None:
            return code
        english = getattr(method, "name_en", "") if self.texts.locale == "en" else ""
        return english or method.name


def _confirm(services: FlowServices, number: str) -> None:
    services.orders.confirm(number, actor="customer")


def _submit_proof(services: FlowServices, number: str, media_id: int) -> None:
    services.orders.submit_proof(number, media_id=media_id, source="chat")


def _set_last5(services: FlowServices, number: str, digits: str) -> None:
    services.orders.set_proof_last5(number, digits)


def _bind(services: FlowServices, issue_id: str, visitor_id: str, conversation_id: int,
          display_name: str, member_ref: str | None = None) -> None:
    result = services.bindings.bind(visitor_id, conversation_id, member_ref=member_ref)
    services.codes.mark_bound(issue_id, {
        "display_name": display_name,
        "binding_id": result.binding.id,
        "member": member_ref is not None,
    })


COMMANDS: dict[str, Callable[..., None]] = {
    "order.confirm": _confirm,
    "order.submit_proof": _submit_proof,
    "order.set_last5": _set_last5,
    "binding.bind": _bind,
}


def run_commands(services: FlowServices, commands: Iterable[Command]) -> None:
    """Execute in order; the first refusal (a ``DomainError``) propagates."""
    for command in commands:
        handler = COMMANDS.get(command.name)
        if handler is None:
            raise KeyError(f"no handler for flow command {command.name!r}")
        handler(services, **command.args)

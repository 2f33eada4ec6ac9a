"""The chat's flows: binding code, order confirmation, payment proof.

Each module holds one ``FlowDefinition`` with its guards and actions; docs/flows.md
draws them and says why each state exists. ``build_registry`` compiles all three
(one ``transitions.Machine`` each) with the waits the merchant configured.
"""

from __future__ import annotations

from dataclasses import replace

from flows.definitions import binding, order_confirmation
from flows.definitions.binding import binding_flow
from flows.definitions.messages import text
from flows.definitions.order_confirmation import order_confirmation_flow
from flows.definitions.payment_proof import payment_proof_flow
from flows.engine import FlowDefinition, FlowRegistry
from flows.texts import Texts

#: Flows that start and end within one event: they never wait, so they never need
#: (or displace) the conversation's stored snapshot.
INSTANT_FLOWS = frozenset({binding.NAME, order_confirmation.NAME})


def chat_flows(texts: Texts, proof_wait_seconds: float = 1800.0) -> tuple[FlowDefinition, ...]:
    """The definitions, each telling the customer when a snapshot it cannot read is dropped."""
    reset = text(texts("先前的對話步驟已失效。"))
    return tuple(
        replace(definition, reset_message=reset)
        for definition in (binding_flow(), order_confirmation_flow(),
                           payment_proof_flow(proof_wait_seconds))
    )


def build_registry(texts: Texts, proof_wait_seconds: float = 1800.0) -> FlowRegistry:
    return FlowRegistry(chat_flows(texts, proof_wait_seconds))

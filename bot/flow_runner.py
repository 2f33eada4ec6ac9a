"""Runs chat flows for the router and the sweeper, and turns what they said into replies.

The caller holds the conversation's lock (the inbox worker does, the sweeper takes
it). Commerce commands run in the engine's ``before_save``, so they commit
before the snapshot does, and the replies built here are handed to the outbox
only after both: a customer never hears about a change that did not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.messages import message_from_dict
from bot.routing import Reply
from commerce.errors import DomainError
from commerce.identity import ConversationKey
from flows.binding_codes import BindingCodeRegistry
from flows.definitions.messages import is_for_admins
from flows.definitions.services import FlowServices, run_commands
from flows.definitions.stores import IssueDetails, OrderCards
from flows.engine import FlowEngine, FlowResult, Outcome
from flows.locks import ConversationLocks
from flows.rate_limits import AttemptLimiter

log = logging.getLogger("chatcart.flows")

#: Outcomes after which the event was answered by the flow (nothing else should answer).
ANSWERED = frozenset({Outcome.HANDLED, Outcome.RESET})


@dataclass
class FlowRuntime:
    """The engine and what runs beside it; one per process, built by the composition root."""

    engine: FlowEngine
    services: FlowServices
    locks: ConversationLocks
    codes: BindingCodeRegistry
    attempts: AttemptLimiter
    cards: OrderCards
    issues: IssueDetails
    admin_conversations: Callable[[], list[int]]

    def before_save(self, result: FlowResult) -> None:
        run_commands(self.services, result.commands)

    def start(self, key: ConversationKey, flow: str, trigger: str,
              payload: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> FlowResult:
        """Start ``flow`` (replacing any active one) and fire its entry trigger."""
        self.engine.start(key, flow, data or {})
        return self.handle(key, trigger, payload)

    def handle(self, key: ConversationKey, trigger: str,
               payload: Mapping[str, Any] | None = None) -> FlowResult:
        """Fire ``trigger``. A command refused because the facts changed between the
        guard and the write (the order was cancelled that very moment) leaves the
        flow where it was; the event is then tried once more, so the guards see the
        new facts and the customer gets the answer that fits them. A second refusal
        is reported as REJECTED with nothing said."""
        for attempt in range(2):
            try:
                return self.engine.handle(key, trigger, payload, before_save=self.before_save)
            except DomainError as exc:
                log.info("flow command refused: %s", exc.message,
                         extra={"conversation": key.as_str(), "trigger": trigger,
                                "attempt": attempt + 1})
        return FlowResult(Outcome.REJECTED)

    def expire(self, key: ConversationKey) -> FlowResult:
        try:
            return self.engine.expire(key, before_save=self.before_save)
        except DomainError as exc:
            log.info("flow timeout command refused: %s", exc.message,
                     extra={"conversation": key.as_str()})
            return FlowResult(Outcome.REJECTED)

    def replies(self, said: Sequence[Any], conversation_id: int | None = None) -> list[Reply]:
        """Customer messages as one reply to the conversation; admin alerts to each admin."""
        customer, admins = [], []
        for item in said:
            if is_for_admins(item):
                admins.append(message_from_dict(item["message"]))
            else:
                customer.append(message_from_dict(item))
        replies = [Reply(tuple(customer), conversation_id)] if customer else []
        if admins:
            replies += [Reply(tuple(admins), conversation_id=admin, internal=True)
                        for admin in self.admin_conversations()]
        return replies

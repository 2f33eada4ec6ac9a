"""Runs chat flows for the router and the sweeper, and turns what they said into replies.

The caller holds the conversation's lock (the inbox worker does, the sweeper takes
it). Commerce commands run in the engine's ``before_save``, so they commit
before the snapshot does, and the replies built here are handed to the outbox
only after both: a customer never hears about a change that did not happen.

Two engines share the definitions. Flows that wait (payment proof) keep their
snapshot in Redis, one per conversation. Instant flows (binding, order
confirmation) start and end within one event, so their snapshot lives in memory
for that event only: a customer answering the digits question can still type a
binding code or tap a card without losing the question.
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
from flows.snapshots import SnapshotStore

log = logging.getLogger("chatcart.flows")

#: Outcomes after which the event was answered by the flow (nothing else should answer).
ANSWERED = frozenset({Outcome.HANDLED})


@dataclass
class FlowRuntime:
    """The engines and what runs beside them; one per process, built by the composition
    root. ``instant`` runs ``instant_flows`` on ``instant_store`` (memory)."""

    engine: FlowEngine
    instant: FlowEngine
    instant_store: SnapshotStore
    instant_flows: frozenset[str]
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
        """Start ``flow`` and fire its entry trigger. A waiting flow replaces the
        conversation's active one; an instant flow leaves it alone and keeps nothing."""
        if flow not in self.instant_flows:
            self.engine.start(key, flow, data or {})
            return self.handle(key, trigger, payload)
        self.instant.start(key, flow, data or {})
        try:
            return self._fire(self.instant, key, trigger, payload)
        finally:
            leftover = self.instant_store.load(key)  # a twice-refused command leaves one
            if leftover is not None:
                self.instant_store.delete(key, leftover.version)

    def handle(self, key: ConversationKey, trigger: str,
               payload: Mapping[str, Any] | None = None) -> FlowResult:
        """Fire ``trigger`` in the conversation's waiting flow, if it has one."""
        return self._fire(self.engine, key, trigger, payload)

    def _fire(self, engine: FlowEngine, key: ConversationKey, trigger: str,
              payload: Mapping[str, Any] | None) -> FlowResult:
        """Fire ``trigger``. A command refused because the facts changed between the
        guard and the write (the order was cancelled that very moment) leaves the
        flow where it was; the event is then tried once more, so the guards see the
        new facts and the customer gets the answer that fits them. A second refusal
        is reported as REJECTED with nothing said."""
        for attempt in range(2):
            try:
                return engine.handle(key, trigger, payload, before_save=self.before_save)
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

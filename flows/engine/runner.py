"""The dialog engine: one event in, a committed snapshot and plain data out.

Per event: load the conversation's snapshot, bring it up to the flow's current
version, run the timeout instead if its waiting state has expired, fire the
trigger on the flow's shared Machine, and save the result with compare-and-set.
What the transition asked for (messages, commerce commands) comes back in the
result; the caller executes it after this commit, so nothing is said or done
for a state change that did not happen. The caller also holds the
conversation's lock around each call; CAS is the second line of defence.

Commands that must succeed for the state change to stand (confirming an order
that may have run out of stock) are run by the caller's ``before_save`` hook,
which sees the would-be result after the transition and before the write: if
it raises, nothing is saved and the flow stays where it was.
"""

from __future__ import annotations

import copy
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from commerce.identity import ConversationKey
from flows.engine.definition import Command, FlowContext, FlowDefinition
from flows.engine.machine import CompiledFlow, FlowModel, FlowRegistry
from flows.snapshots import Snapshot, SnapshotStore

START_TRIGGER = "start"

log = logging.getLogger("chatcart.flows")


class Outcome(str, enum.Enum):
    HANDLED = "handled"  # the trigger moved the flow, or the flow started
    NO_FLOW = "no_flow"  # the conversation has no active flow
    NOT_ACCEPTED = "not_accepted"  # the current state has no transition for the trigger
    REJECTED = "rejected"  # it has, but every guard said no
    TIMED_OUT = "timed_out"  # the waiting state had expired; its timeout ran instead
    NOT_DUE = "not_due"  # expire() before the deadline
    BUSY = "busy"  # start(replace=False) while another flow is active
    RESET = "reset"  # a snapshot no current definition can read was dropped


class ConcurrentUpdate(Exception):
    """Someone else wrote this conversation's snapshot since we read it. Nothing
    of this event was committed; handle the event again from the start."""

    retryable = True


BeforeSave = Callable[["FlowResult"], None]


class UnknownFlow(KeyError):
    """``start`` named a flow that is not registered."""


@dataclass(frozen=True)
class FlowResult:
    """What one event did. ``state`` is the flow's state afterwards (its final
    state if the event ended it); ``snapshot`` is what is stored now, None if
    the conversation has no active flow any more."""

    outcome: Outcome
    flow: str | None = None
    state: str | None = None
    messages: tuple[Any, ...] = ()
    commands: tuple[Command, ...] = ()
    snapshot: Snapshot | None = None
    ended: bool = False

    @property
    def handled(self) -> bool:
        return self.outcome is Outcome.HANDLED

    @property
    def timed_out(self) -> bool:
        return self.outcome is Outcome.TIMED_OUT


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class FlowEngine:
    """Runs flow events against a snapshot store. Never calls a chat platform
    or a commerce service; ``services`` is only handed to guards that must read
    current facts (is this order still open?)."""

    def __init__(
        self,
        registry: FlowRegistry,
        store: SnapshotStore,
        clock: Callable[[], datetime] = _utc_now,
        services: Any = None,
    ) -> None:
        self._registry = registry
        self._store = store
        self._clock = clock
        self._services = services

    def active(self, key: ConversationKey) -> Snapshot | None:
        """The stored snapshot, as is (not migrated, possibly expired)."""
        return self._store.load(key)

    def start(
        self,
        key: ConversationKey,
        flow_name: str,
        data: Mapping[str, Any] | None = None,
        *,
        payload: Mapping[str, Any] | None = None,
        replace: bool = True,
        before_save: BeforeSave | None = None,
    ) -> FlowResult:
        """Start ``flow_name`` at its initial state, running that state's enter
        actions. One flow per conversation: an active one is replaced, or with
        ``replace=False`` left alone (outcome BUSY)."""
        compiled = self._registry.get(flow_name)
        if compiled is None:
            raise UnknownFlow(flow_name)
        now = self._clock()
        existing = self._store.load(key)
        if existing is not None and not replace and not existing.is_expired(now):
            return FlowResult(Outcome.BUSY, existing.flow, existing.state, snapshot=existing)
        definition = compiled.definition
        initial = definition.initial
        context = self._context(key, definition.name, initial, START_TRIGGER, now, data, payload)
        compiled.run_on_enter(context)
        return self._commit(key, compiled, existing, context, initial, True, before_save)

    def handle(
        self,
        key: ConversationKey,
        trigger: str,
        payload: Mapping[str, Any] | None = None,
        *,
        before_save: BeforeSave | None = None,
    ) -> FlowResult:
        """Fire ``trigger`` in the conversation's active flow. Never raises for
        input the flow does not expect: the outcome says what happened."""
        now = self._clock()
        current = self._loaded(key)
        if isinstance(current, FlowResult):
            return current
        compiled, snap, stored = current
        if snap.is_expired(now):
            return self._time_out(key, compiled, snap, now, before_save)
        # The timeout trigger is the engine's to fire, never a chat user's.
        if trigger == compiled.definition.timeout_trigger or not compiled.accepts(
            snap.state, trigger
        ):
            return FlowResult(Outcome.NOT_ACCEPTED, snap.flow, snap.state, snapshot=stored)
        context = self._context(key, snap.flow, snap.state, trigger, now, snap.data, payload)
        model = self._fire(compiled, context)
        if model is None:
            return FlowResult(Outcome.REJECTED, snap.flow, snap.state, snapshot=stored)
        return self._commit(key, compiled, snap, context, model.state, model.entered, before_save)

    def expire(self, key: ConversationKey, *, before_save: BeforeSave | None = None) -> FlowResult:
        """Run the timeout of the conversation's flow if its deadline has
        passed. For the sweeper, which holds the conversation lock."""
        now = self._clock()
        current = self._loaded(key)
        if isinstance(current, FlowResult):
            return current
        compiled, snap, stored = current
        if not snap.is_expired(now):
            return FlowResult(Outcome.NOT_DUE, snap.flow, snap.state, snapshot=stored)
        return self._time_out(key, compiled, snap, now, before_save)

    def sweep(self, now: datetime | None = None, limit: int = 100) -> list[ConversationKey]:
        """Conversations whose waiting state has expired, oldest first."""
        return self._store.due(now or self._clock(), limit)

    def _context(
        self,
        key: ConversationKey,
        flow: str,
        state: str,
        trigger: str,
        now: datetime,
        data: Mapping[str, Any] | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> FlowContext:
        return FlowContext(
            key=key,
            flow=flow,
            state=state,
            trigger=trigger,
            payload=dict(payload or {}),
            data=copy.deepcopy(dict(data or {})),
            now=now,
            services=self._services,
        )

    def _loaded(
        self, key: ConversationKey
    ) -> tuple[CompiledFlow, Snapshot, Snapshot] | FlowResult:
        """The active flow with its snapshot (migrated, and as stored), or the
        result that ends the call: no flow, or a reset of an unusable snapshot."""
        stored = self._store.load(key)
        if stored is None:
            return FlowResult(Outcome.NO_FLOW)
        current = self._current(key, stored)
        if isinstance(current, FlowResult):
            return current
        return (*current, stored)

    def _current(
        self, key: ConversationKey, stored: Snapshot
    ) -> tuple[CompiledFlow, Snapshot] | FlowResult:
        """The snapshot in the registered definition's terms, or the reset of it."""
        compiled = self._registry.get(stored.flow)
        migrated = _migrate(compiled.definition, stored) if compiled else None
        if compiled is None or migrated is None or not compiled.has_state(migrated.state):
            if not self._store.delete(key, stored.version):
                raise ConcurrentUpdate(key.as_str())
            message = compiled.definition.reset_message if compiled else None
            messages = () if message is None else (message,)
            return FlowResult(Outcome.RESET, stored.flow, messages=messages, ended=True)
        return compiled, migrated

    def _fire(self, compiled: CompiledFlow, context: FlowContext) -> FlowModel | None:
        """Fire on the shared Machine through a model attached for this call; the
        returned model holds the state it reached."""
        model = FlowModel(context)
        with compiled.attached(model) as attached:
            fired = attached.trigger(context.trigger)
        return model if fired else None

    def _time_out(
        self,
        key: ConversationKey,
        compiled: CompiledFlow,
        snap: Snapshot,
        now: datetime,
        before_save: BeforeSave | None,
    ) -> FlowResult:
        trigger = compiled.definition.timeout_trigger
        context = self._context(key, snap.flow, snap.state, trigger, now, snap.data)
        model = self._fire(compiled, context) if compiled.accepts(snap.state, trigger) else None
        if model is None:
            if not self._store.delete(key, snap.version):
                raise ConcurrentUpdate(key.as_str())
            return FlowResult(Outcome.TIMED_OUT, snap.flow, snap.state, ended=True)
        return self._commit(
            key, compiled, snap, context, model.state, model.entered, before_save, Outcome.TIMED_OUT
        )

    def _commit(
        self,
        key: ConversationKey,
        compiled: CompiledFlow,
        before: Snapshot | None,
        context: FlowContext,
        state: str,
        entered: bool,
        before_save: BeforeSave | None,
        outcome: Outcome = Outcome.HANDLED,
    ) -> FlowResult:
        """Save (or, at a final state, delete) with CAS against ``before``,
        once ``before_save`` has accepted the result."""
        definition = compiled.definition
        spec = definition.state(state)
        expected = before.version if before else 0
        # A start is followed by its entry trigger in the same event (FlowRuntime),
        # whose line names the flow again: the start itself is a debug detail.
        log.log(logging.INFO if before else logging.DEBUG, "flow %s: %s -> %s",
                definition.name, before.state if before else "(start)", state,
                extra={"conversation": key.as_str(), "trigger": context.trigger})
        done = FlowResult(
            outcome,
            definition.name,
            state,
            tuple(context.messages),
            tuple(context.commands),
        )
        if spec is not None and spec.final:
            done = replace(done, ended=True)
            if before_save:
                before_save(done)
            if before is not None and not self._store.delete(key, expected):
                raise ConcurrentUpdate(key.as_str())
            return done
        now = context.now
        if entered:
            timeout = spec.timeout_seconds if spec else None
            expires = now + timedelta(seconds=timeout) if timeout else None
        else:
            # A deadline already past is never carried on, or the sweeper would loop.
            expires = before.expires_at if before and not before.is_expired(now) else None
        snapshot = Snapshot(
            flow=definition.name,
            flow_version=definition.version,
            state=state,
            data=context.data,
            version=expected + 1,
            updated_at=now,
            expires_at=expires,
        )
        done = replace(done, snapshot=snapshot)
        if before_save:
            before_save(done)
        if not self._store.save(key, snapshot, expected):
            raise ConcurrentUpdate(key.as_str())
        return done


def _migrate(definition: FlowDefinition, snap: Snapshot) -> Snapshot | None:
    """Step ``snap`` up to the definition's version; None where no step exists
    (or the snapshot is from a newer definition than this code knows)."""
    state, data, version = snap.state, snap.data, snap.flow_version
    while version < definition.version:
        step = definition.migrations.get(version)
        moved = step(state, copy.deepcopy(data)) if step else None
        if moved is None:
            return None
        state, data = moved
        version += 1
    if version != definition.version:
        return None
    return replace(snap, flow_version=version, state=state, data=data)

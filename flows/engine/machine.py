"""Compiling a flow definition into its one shared ``transitions.Machine``.

Building a Machine is the expensive part of pytransitions (states, events,
transition objects, name resolution); a model is cheap. So each flow gets one
Machine, built when the flow is registered, with no model of its own. For each
event the engine borrows an attached model (from a pool: attaching is the costly
part of a model), gives it that event's state and context, fires the trigger and
gives it back, even when an action raises. Models keep their state on
themselves, so events of different conversations can run on the same Machine in
parallel threads; only the Machine's list of models and the pool are shared, and
they are guarded here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from transitions import EventData, Machine

from flows.engine.definition import (
    Action,
    FlowContext,
    FlowDefinition,
    Guard,
    StateSpec,
    TransitionSpec,
)


class FlowModel:
    """The per-event model: the machine writes ``state``; callbacks read the context."""

    trigger: Callable[..., bool]  # bound by ``Machine.add_model``

    def __init__(self, context: FlowContext) -> None:
        self.flow_context = context
        self.entered = False
        self.state = context.state


def _mark_entered(event: EventData) -> None:
    event.model.entered = True


def _guard(guard: Guard) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        return bool(guard(event.model.flow_context))

    return check


def _action(action: Action) -> Callable[[EventData], None]:
    def run(event: EventData) -> None:
        action(event.model.flow_context)

    return run


class CompiledFlow:
    """A definition together with the Machine built from it."""

    def __init__(self, definition: FlowDefinition) -> None:
        self.definition = definition
        self.machine = Machine(
            model=None,
            states=[self._state(spec) for spec in definition.states],
            initial=definition.initial,
            transitions=[self._transition(spec) for spec in definition.transitions],
            send_event=True,
            auto_transitions=False,  # no ``to_<state>`` triggers a chat user could fire
            ignore_invalid_triggers=False,
            name=definition.name,
        )
        self._models_lock = threading.Lock()
        self._idle: list[FlowModel] = []  # attached models free for the next event

    def _state(self, spec: StateSpec) -> dict[str, Any]:
        actions = [_action(self.definition.actions[a]) for a in spec.on_enter]
        return {"name": spec.name, "on_enter": [_mark_entered, *actions], "final": spec.final}

    def _transition(self, spec: TransitionSpec) -> dict[str, Any]:
        guards = self.definition.guards
        return {
            "trigger": spec.trigger,
            "source": spec.source if isinstance(spec.source, str) else list(spec.source),
            "dest": spec.dest,
            "conditions": [_guard(guards[g]) for g in spec.conditions],
            "unless": [_guard(guards[g]) for g in spec.unless],
            "before": [_action(self.definition.actions[a]) for a in spec.actions],
        }

    def has_state(self, state: str) -> bool:
        return state in self.machine.states

    def accepts(self, state: str, trigger: str) -> bool:
        """Whether some transition of ``trigger`` leaves ``state`` (guards aside)."""
        event = self.machine.events.get(trigger)
        return event is not None and bool(event.transitions.get(state))

    def triggers(self, state: str) -> list[str]:
        """Triggers that have a transition out of ``state``: what the flow waits for."""
        return self.machine.get_triggers(state)

    def run_on_enter(self, context: FlowContext) -> None:
        """The initial state's enter actions, for a flow that is just starting
        (attaching a model sets its state without "entering" it)."""
        spec = self.definition.state(context.state)
        for name in spec.on_enter if spec else ():
            self.definition.actions[name](context)

    @contextmanager
    def attached(self, model: FlowModel) -> Iterator[FlowModel]:
        """A model attached to the Machine, at ``model``'s state and carrying its
        context, for the duration of the block.

        ``Machine.add_model`` binds every trigger and state check onto the model
        and is the costliest step of an event, so attached models are kept in a
        pool and reused: the block gets one that is attached already, set to this
        event's state and context. ``model`` itself is never attached; what the
        block's model ends up with (state, ``entered``) is copied back to it."""
        # list.pop and list.append are atomic: a lock here was one more place for a
        # busy worker's threads to queue.
        try:
            reused: FlowModel | None = self._idle.pop()
        except IndexError:
            reused = None
        if reused is None:
            reused = FlowModel(model.flow_context)
            with self._models_lock:
                self.machine.add_model(reused, initial=model.state)
        else:
            reused.flow_context = model.flow_context
            reused.entered = False
            self.machine.set_state(model.state, reused)
        try:
            yield reused
        finally:
            model.state, model.entered = reused.state, reused.entered
            reused.flow_context = None  # type: ignore[assignment] - not kept past the event
            self._idle.append(reused)


class FlowRegistry:
    """Flows by name, compiled once at registration."""

    def __init__(self, definitions: tuple[FlowDefinition, ...] = ()) -> None:
        self._flows: dict[str, CompiledFlow] = {}
        for definition in definitions:
            self.register(definition)

    def register(self, definition: FlowDefinition) -> CompiledFlow:
        if definition.name in self._flows:
            raise ValueError(f"flow {definition.name!r} is already registered")
        compiled = CompiledFlow(definition)
        self._flows[definition.name] = compiled
        return compiled

    def get(self, name: str) -> CompiledFlow | None:
        return self._flows.get(name)

    def names(self) -> list[str]:
        return sorted(self._flows)

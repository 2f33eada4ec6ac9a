"""What a flow is: a declarative definition, and the context its code runs in.

A flow is data (states, transitions, names of guards and actions) plus a small
table of the functions those names stand for. Keeping it data means it can be
validated once at registration, drawn as a diagram, and compiled into a single
shared ``transitions.Machine``. Guards and actions never call a chat platform
or a commerce service themselves: they read and write the flow's data and ask
for messages and commands through the context, which the engine returns to a
caller that runs them only after the snapshot is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commerce.identity import ConversationKey

ANY_STATE = "*"
SAME_STATE = "="

Guard = Callable[["FlowContext"], bool]
Action = Callable[["FlowContext"], None]
MigrationStep = Callable[[str, dict[str, Any]], "tuple[str, dict[str, Any]] | None"]
"""From ``(state, data)`` of version N to version N+1; None means "cannot, reset"."""


@dataclass(frozen=True)
class Command:
    """A commerce call the flow asks for, as plain data (``order.confirm``, ...)."""

    name: str
    args: dict[str, Any]


@dataclass
class FlowContext:
    """Everything guards and actions of one event may see and do.

    ``data`` is the event's private working copy of the snapshot data; it is
    saved only if the event commits. Guards should only read: a guard that
    fails lets the next candidate transition try, and anything it said would
    be dropped with the event.
    """

    key: ConversationKey
    flow: str
    state: str
    trigger: str
    payload: Mapping[str, Any]
    data: dict[str, Any]
    now: datetime
    services: Any = None
    messages: list[Any] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)

    def say(self, message: Any) -> None:
        """Queue an outbound message (any data; the bot layer renders it)."""
        self.messages.append(message)

    def command(self, name: str, **args: Any) -> None:
        """Queue a commerce command for the caller to run."""
        self.commands.append(Command(name, args))


@dataclass(frozen=True)
class StateSpec:
    """One state. ``timeout_seconds`` makes it a waiting state with a deadline
    that restarts every time the state is entered; ``on_enter`` names actions
    (a prompt, typically); reaching a ``final`` state ends the flow."""

    name: str
    timeout_seconds: float | None = None
    on_enter: tuple[str, ...] = ()
    final: bool = False


@dataclass(frozen=True)
class TransitionSpec:
    """``trigger`` moves ``source`` (a state, several, or ``*``) to ``dest`` (a
    state, ``=`` to re-enter the source, or None to stay without re-entering)
    when every guard in ``conditions`` holds and none in ``unless`` does; then
    its ``actions`` run, before the destination's ``on_enter`` actions.
    Transitions of one trigger are tried in the order given."""

    trigger: str
    source: str | tuple[str, ...]
    dest: str | None
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)


@dataclass(frozen=True)
class FlowDefinition:
    """A flow. Bump ``version`` when states or data change meaning; snapshots
    written by version N are carried forward by ``migrations[N]`` step by step,
    and reset (with ``reset_message`` said, if any) where no step exists.
    An expired waiting state fires ``timeout_trigger``; without a transition
    for it in that state the flow simply ends."""

    name: str
    version: int
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    initial: str
    guards: Mapping[str, Guard] = field(default_factory=dict)
    actions: Mapping[str, Action] = field(default_factory=dict)
    migrations: Mapping[int, MigrationStep] = field(default_factory=dict)
    reset_message: Any = None
    timeout_trigger: str = "timeout"

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError(f"flow {self.name!r} is invalid: " + "; ".join(problems))

    def state(self, name: str) -> StateSpec | None:
        return next((s for s in self.states if s.name == name), None)

    def _problems(self) -> Iterator[str]:
        if not self.name or self.version < 1:
            yield "needs a name and a version >= 1"
        names = [s.name for s in self.states]
        if len(set(names)) != len(names):
            yield "state names repeat"
        initial = self.state(self.initial)
        if initial is None or initial.final:
            yield f"initial state {self.initial!r} is missing or final"
        for spec in self.states:
            if spec.timeout_seconds is not None and spec.timeout_seconds <= 0:
                yield f"state {spec.name!r} has a non-positive timeout"
            yield from _unknown("action", spec.on_enter, self.actions)
        for tr in self.transitions:
            if not tr.trigger:
                yield "a transition has no trigger"
            for src in tr.sources:
                if src != ANY_STATE and src not in names:
                    yield f"{tr.trigger!r} leaves unknown state {src!r}"
            if tr.dest not in (None, SAME_STATE, *names):
                yield f"{tr.trigger!r} enters unknown state {tr.dest!r}"
            yield from _unknown("guard", tr.conditions + tr.unless, self.guards)
            yield from _unknown("action", tr.actions, self.actions)
        if any(v >= self.version or v < 1 for v in self.migrations):
            yield "migrations must start from older versions"


def _unknown(kind: str, wanted: tuple[str, ...], known: Mapping[str, Any]) -> Iterator[str]:
    for name in wanted:
        if name not in known:
            yield f"unknown {kind} {name!r}"

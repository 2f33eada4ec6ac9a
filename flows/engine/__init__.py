"""The dialog engine on ``transitions``: declarative flows, one shared Machine
per flow, snapshots saved with compare-and-set. See docs/flows.md."""

from flows.engine.definition import (
    ANY_STATE,
    SAME_STATE,
    Action,
    Command,
    FlowContext,
    FlowDefinition,
    Guard,
    MigrationStep,
    StateSpec,
    TransitionSpec,
)
from flows.engine.machine import CompiledFlow, FlowRegistry
from flows.engine.runner import (
    BeforeSave,
    ConcurrentUpdate,
    FlowEngine,
    FlowResult,
    Outcome,
    UnknownFlow,
)

__all__ = [
    "ANY_STATE",
    "SAME_STATE",
    "Action",
    "BeforeSave",
    "Command",
    "CompiledFlow",
    "ConcurrentUpdate",
    "FlowContext",
    "FlowDefinition",
    "FlowEngine",
    "FlowRegistry",
    "FlowResult",
    "Guard",
    "MigrationStep",
    "Outcome",
    "StateSpec",
    "TransitionSpec",
    "UnknownFlow",
]

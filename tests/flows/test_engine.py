"""The dialog engine with a small order-confirmation flow defined here.

Most tests run twice: on the memory store and on a real Redis store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import transitions

from commerce.errors import OutOfStock
from commerce.identity import Channel, ConversationKey
from flows.engine import (
    SAME_STATE,
    Command,
    ConcurrentUpdate,
    FlowContext,
    FlowDefinition,
    FlowEngine,
    FlowRegistry,
    FlowResult,
    Outcome,
    StateSpec,
    TransitionSpec,
    UnknownFlow,
)
from flows.keys import KeyBuilder
from flows.redis_client import make_redis
from flows.snapshots import MemorySnapshotStore, RedisSnapshotStore, Snapshot, SnapshotStore
from tests.support.clock import FakeClock

ALICE = ConversationKey(Channel.LINE, "shop", "Ualice")
BOB = ConversationKey(Channel.MESSENGER, "page", "bob")
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)



class Shop:
    """Stands in for commerce services that a guard may read."""

    def __init__(self) -> None:
        self.closed_orders: set[str] = set()

    def order_open(self, order_id: str) -> bool:
        return order_id not in self.closed_orders


def _prompt(ctx: FlowContext) -> None:
    ctx.say({"text": f"Confirm order {ctx.data['order']}?", "buttons": ["confirm", "cancel"]})


def _record_confirm(ctx: FlowContext) -> None:
    ctx.command("order.confirm", order=ctx.data["order"])
    ctx.data["confirmed_at"] = ctx.now.isoformat()


def _ask_payment(ctx: FlowContext) -> None:
    ctx.say({"text": "Please transfer and upload the proof."})


def _note(ctx: FlowContext) -> None:
    ctx.data.setdefault("notes", []).append(ctx.payload["text"])


def _expired(ctx: FlowContext) -> None:
    ctx.say({"text": "This order confirmation has expired."})
    ctx.command("order.expire", order=ctx.data["order"])


def _boom(ctx: FlowContext) -> None:
    ctx.data["half"] = "written"
    raise RuntimeError("action failed")


def order_flow(version: int = 1, **changes) -> FlowDefinition:
    flow = FlowDefinition(
        name="order_confirmation",
        version=version,
        initial="awaiting_confirmation",
        states=(
            StateSpec("awaiting_confirmation", timeout_seconds=600, on_enter=("prompt",)),
            StateSpec("awaiting_payment", timeout_seconds=3600, on_enter=("ask_payment",)),
            StateSpec("reminded", timeout_seconds=600),
            StateSpec("paid", final=True),
            StateSpec("cancelled", final=True),
            StateSpec("expired", final=True),
        ),
        transitions=(
            TransitionSpec(
                "confirm",
                "awaiting_confirmation",
                "awaiting_payment",
                conditions=("order_open",),
                actions=("record_confirm",),
            ),
            TransitionSpec("confirm", "awaiting_confirmation", None, actions=("say_closed",)),
            TransitionSpec("cancel", "awaiting_confirmation", "cancelled", unless=("locked",)),
            TransitionSpec(
                "note", ("awaiting_confirmation", "awaiting_payment"), None, (), (), ("note",)
            ),
            TransitionSpec("show_again", "awaiting_confirmation", SAME_STATE),
            TransitionSpec("paid", ("awaiting_payment", "reminded"), "paid"),
            TransitionSpec("boom", "awaiting_confirmation", "awaiting_payment", actions=("boom",)),
            TransitionSpec("timeout", "awaiting_confirmation", "expired", actions=("expired",)),
            TransitionSpec("timeout", "awaiting_payment", "reminded", actions=("remind",)),
        ),
        guards={
            "order_open": lambda ctx: ctx.services.order_open(ctx.data["order"]),
            "locked": lambda ctx: bool(ctx.data.get("locked")),
        },
        actions={
            "prompt": _prompt,
            "record_confirm": _record_confirm,
            "ask_payment": _ask_payment,
            "say_closed": lambda ctx: ctx.say({"text": "This order is closed."}),
            "note": _note,
            "expired": _expired,
            "remind": lambda ctx: ctx.say({"text": "Reminder: payment due."}),
            "boom": _boom,
        },
        reset_message={"text": "Sorry, let's start over."},
    )
    return replace(flow, **changes) if changes else flow


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[SnapshotStore]:
    if request.param == "memory":
        yield MemorySnapshotStore()
        return
    client = make_redis(request.getfixturevalue("redis_url"))
    yield RedisSnapshotStore(client, KeyBuilder("t"))
    client.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
def engine(store: SnapshotStore, clock: FakeClock, shop: Shop) -> FlowEngine:
    return FlowEngine(FlowRegistry((order_flow(),)), store, clock, services=shop)


def test_start_enters_the_initial_state_and_says_its_prompt(engine: FlowEngine) -> None:
    result = engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    assert result.handled
    assert result.state == "awaiting_confirmation"
    assert result.messages == ({"text": "Confirm order A-1?", "buttons": ["confirm", "cancel"]},)
    assert result.snapshot is not None
    assert result.snapshot.version == 1
    assert result.snapshot.expires_at == T0 + timedelta(seconds=600)
    assert engine.active(ALICE) == result.snapshot


def test_trigger_moves_the_flow_and_returns_commands_as_data(
    engine: FlowEngine, clock: FakeClock
) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    clock.advance(30)
    result = engine.handle(ALICE, "confirm")
    assert result.outcome is Outcome.HANDLED
    assert result.state == "awaiting_payment"
    assert result.commands == (Command("order.confirm", {"order": "A-1"}),)
    assert result.messages == ({"text": "Please transfer and upload the proof."},)
    stored = engine.active(ALICE)
    assert stored is not None
    assert (stored.state, stored.version) == ("awaiting_payment", 2)
    assert stored.data == {"order": "A-1", "confirmed_at": clock.now.isoformat()}
    assert stored.expires_at == clock.now + timedelta(seconds=3600)


def test_guard_reading_services_picks_the_fallback_transition(
    engine: FlowEngine, shop: Shop
) -> None:
    first = engine.start(ALICE, "order_confirmation", {"order": "A-1"}).snapshot
    shop.closed_orders.add("A-1")
    result = engine.handle(ALICE, "confirm")
    assert result.handled
    assert result.state == "awaiting_confirmation"
    assert result.messages == ({"text": "This order is closed."},)
    assert result.commands == ()
    assert result.snapshot is not None and first is not None
    assert result.snapshot.expires_at == first.expires_at  # staying is not re-entering


@pytest.mark.parametrize("trigger", ["no_such_trigger", "paid", "to_paid", "timeout", "state"])
def test_triggers_the_state_does_not_accept_are_reported_not_raised(
    engine: FlowEngine, trigger: str
) -> None:
    started = engine.start(ALICE, "order_confirmation", {"order": "A-1"}).snapshot
    result = engine.handle(ALICE, trigger)
    assert result.outcome is Outcome.NOT_ACCEPTED
    assert not result.handled
    assert result.state == "awaiting_confirmation"
    assert (result.messages, result.commands) == ((), ())
    assert engine.active(ALICE) == started


def test_guards_that_all_refuse_leave_the_snapshot_alone(engine: FlowEngine) -> None:
    started = engine.start(ALICE, "order_confirmation", {"order": "A-1", "locked": True})
    result = engine.handle(ALICE, "cancel")
    assert result.outcome is Outcome.REJECTED
    assert engine.active(ALICE) == started.snapshot


def test_internal_transition_writes_data_from_the_payload(
    engine: FlowEngine, clock: FakeClock
) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    clock.advance(100)
    engine.handle(ALICE, "note", {"text": "請用黑貓"})
    result = engine.handle(ALICE, "note", {"text": "週末收"})
    assert result.snapshot is not None
    assert result.snapshot.data["notes"] == ["請用黑貓", "週末收"]
    assert result.snapshot.expires_at == T0 + timedelta(seconds=600)
    assert result.snapshot.version == 3


def test_reentering_the_same_state_restarts_its_deadline(
    engine: FlowEngine, clock: FakeClock
) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    clock.advance(500)
    result = engine.handle(ALICE, "show_again")
    assert result.messages == ({"text": "Confirm order A-1?", "buttons": ["confirm", "cancel"]},)
    assert result.snapshot is not None
    assert result.snapshot.expires_at == clock.now + timedelta(seconds=600)


def test_final_state_ends_the_flow_and_frees_the_conversation(engine: FlowEngine) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    result = engine.handle(ALICE, "cancel")
    assert result.handled and result.ended
    assert result.state == "cancelled"
    assert result.snapshot is None
    assert engine.active(ALICE) is None
    assert engine.handle(ALICE, "confirm").outcome is Outcome.NO_FLOW


def test_input_after_the_deadline_runs_the_timeout_instead(
    engine: FlowEngine, clock: FakeClock
) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    clock.advance(600)
    result = engine.handle(ALICE, "confirm")
    assert result.timed_out and not result.handled and result.ended
    assert result.state == "expired"
    assert result.messages == ({"text": "This order confirmation has expired."},)
    assert result.commands == (Command("order.expire", {"order": "A-1"}),)
    assert engine.active(ALICE) is None


def test_sweeper_finds_expired_waits_and_expire_runs_their_timeout(
    engine: FlowEngine, clock: FakeClock
) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    engine.handle(ALICE, "confirm")
    engine.start(BOB, "order_confirmation", {"order": "B-1"})
    assert engine.expire(ALICE).outcome is Outcome.NOT_DUE
    clock.advance(600)
    assert engine.sweep() == [BOB]
    clock.advance(3000)
    assert engine.sweep(limit=10) == [BOB, ALICE]

    reminded = engine.expire(ALICE)
    assert reminded.timed_out and not reminded.ended
    assert reminded.state == "reminded"
    assert reminded.messages == ({"text": "Reminder: payment due."},)
    assert reminded.snapshot is not None
    assert reminded.snapshot.expires_at == clock.now + timedelta(seconds=600)
    assert engine.expire(BOB).state == "expired"
    assert engine.sweep() == []
    assert engine.handle(ALICE, "paid").state == "paid"


def test_waiting_state_without_a_timeout_transition_just_ends(
    engine: FlowEngine, clock: FakeClock
) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    engine.handle(ALICE, "confirm")
    clock.advance(3600)
    engine.expire(ALICE)
    clock.advance(600)
    assert engine.sweep() == [ALICE]
    result = engine.expire(ALICE)
    assert result.timed_out and result.ended
    assert (result.messages, result.commands) == ((), ())
    assert engine.active(ALICE) is None
    assert engine.sweep() == []


def test_a_failing_action_commits_nothing(engine: FlowEngine) -> None:
    started = engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    with pytest.raises(RuntimeError):
        engine.handle(ALICE, "boom")
    assert engine.active(ALICE) == started.snapshot
    assert engine.handle(ALICE, "confirm").handled


def test_start_replaces_or_reports_busy(engine: FlowEngine, clock: FakeClock) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    busy = engine.start(ALICE, "order_confirmation", {"order": "A-2"}, replace=False)
    assert busy.outcome is Outcome.BUSY
    assert busy.snapshot is not None and busy.snapshot.data == {"order": "A-1"}
    replaced = engine.start(ALICE, "order_confirmation", {"order": "A-2"})
    assert replaced.snapshot is not None
    assert (replaced.snapshot.data, replaced.snapshot.version) == ({"order": "A-2"}, 2)
    clock.advance(601)
    again = engine.start(ALICE, "order_confirmation", {"order": "A-3"}, replace=False)
    assert again.handled
    with pytest.raises(UnknownFlow):
        engine.start(ALICE, "no_such_flow")


class RacingStore(MemorySnapshotStore):
    """Lets another worker write right after our load, as a lost race would."""

    def load(self, key: ConversationKey) -> Snapshot | None:
        snap = super().load(key)
        if snap is not None:
            newer = replace(snap, version=snap.version + 1, data={**snap.data, "by": "other"})
            super().save(key, newer, snap.version)
        return snap


def test_a_lost_compare_and_set_is_a_retryable_error(clock: FakeClock, shop: Shop) -> None:
    store = RacingStore()
    engine = FlowEngine(FlowRegistry((order_flow(),)), store, clock, services=shop)
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    with pytest.raises(ConcurrentUpdate) as caught:
        engine.handle(ALICE, "confirm")
    assert caught.value.retryable
    stored = MemorySnapshotStore.load(store, ALICE)
    assert stored is not None and stored.data["by"] == "other"


def _store_old(store: SnapshotStore, *, flow: str = "order_confirmation", flow_version: int = 1):
    old = Snapshot(flow, flow_version, "waiting", {"order_no": "A-9"}, 1, T0, None)
    assert store.save(ALICE, old, 0)


def test_older_snapshots_are_migrated_step_by_step(store: SnapshotStore, clock: FakeClock) -> None:
    _store_old(store)
    steps = {
        1: lambda state, data: ("awaiting_confirmation", {"order": data["order_no"]}),
        2: lambda state, data: (state, {**data, "migrated": True}),
    }
    flow = order_flow(version=3, migrations=steps)
    engine = FlowEngine(FlowRegistry((flow,)), store, clock, services=Shop())
    result = engine.handle(ALICE, "confirm")
    assert result.handled
    assert result.commands == (Command("order.confirm", {"order": "A-9"}),)
    assert result.snapshot is not None
    assert (result.snapshot.flow_version, result.snapshot.data["migrated"]) == (3, True)


@pytest.mark.parametrize(
    ("flow", "flow_version", "migrations", "message"),
    [
        ("order_confirmation", 1, {}, True),  # no step from version 1
        ("order_confirmation", 1, {1: lambda s, d: None}, True),  # the step gives up
        ("order_confirmation", 1, {1: lambda s, d: ("gone", d)}, True),  # unknown state
        ("order_confirmation", 5, {}, True),  # written by a newer definition
        ("retired_flow", 1, {}, False),  # flow no longer registered
    ],
)
def test_unreadable_snapshots_are_reset(
    store: SnapshotStore, clock: FakeClock, flow, flow_version, migrations, message
) -> None:
    _store_old(store, flow=flow, flow_version=flow_version)
    definition = order_flow(version=2, migrations=migrations)
    engine = FlowEngine(FlowRegistry((definition,)), store, clock, services=Shop())
    result = engine.handle(ALICE, "confirm")
    assert result.outcome is Outcome.RESET and result.ended
    assert result.messages == (({"text": "Sorry, let's start over."},) if message else ())
    assert engine.active(ALICE) is None


def test_one_machine_per_flow_however_many_events(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    built: list[transitions.Machine] = []
    original_init = transitions.Machine.__init__

    def counting_init(self, *args, **kwargs) -> None:
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    attached: list[list[object]] = []

    def capture_models(ctx: FlowContext) -> None:
        attached.append(list(built[0].models))

    flow = order_flow(actions={**order_flow().actions, "note": capture_models})
    registry = FlowRegistry((flow, order_flow(name="second_flow")))
    assert len(built) == 2
    assert registry.get("order_confirmation").machine is built[0]

    engine = FlowEngine(registry, MemorySnapshotStore(), clock, services=Shop())
    for n in range(20):
        key = ConversationKey(Channel.LINE, "shop", f"U{n}")
        engine.start(key, "order_confirmation", {"order": f"A-{n}"})
        engine.handle(key, "note", {"text": "hi"})
        assert engine.handle(key, "confirm").handled
    assert len(built) == 2
    assert len(attached) == 20
    # one model, attached once and reused by every later event
    assert all(models == attached[0] for models in attached)
    assert len(built[0].models) == 1
    assert built[0].models[0].flow_context is None  # no event's context kept


def test_a_reused_model_starts_each_event_at_that_events_state(clock: FakeClock) -> None:
    registry = FlowRegistry((order_flow(),))
    engine = FlowEngine(registry, MemorySnapshotStore(), clock, services=Shop())
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    engine.start(BOB, "order_confirmation", {"order": "B-1"})
    assert engine.handle(ALICE, "confirm").handled  # the pooled model moved on...
    assert engine.active(ALICE).state == "awaiting_payment"
    # ...but Bob's event starts from Bob's state: "paid" is not valid there yet,
    # "confirm" is (on a model left at Alice's state it would be the other way round)
    assert not engine.handle(BOB, "paid").handled
    assert engine.handle(BOB, "confirm").handled
    assert engine.active(BOB).state == "awaiting_payment"


def test_model_goes_back_to_the_pool_even_when_an_action_raises(clock: FakeClock) -> None:
    registry = FlowRegistry((order_flow(),))
    machine = registry.get("order_confirmation").machine
    engine = FlowEngine(registry, MemorySnapshotStore(), clock, services=Shop())
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    with pytest.raises(RuntimeError):
        engine.handle(ALICE, "boom")
    assert len(machine.models) == 1 and machine.models[0].flow_context is None
    assert engine.handle(ALICE, "confirm").handled  # the same model, from Alice's state
    assert len(machine.models) == 1


def test_parallel_events_share_the_machine_without_mixing_models(clock: FakeClock) -> None:
    barrier = threading.Barrier(2)
    seen: list[int] = []

    def wait_for_the_other(ctx: FlowContext) -> None:
        seen.append(len(machine.models))
        barrier.wait(timeout=5)  # both events are inside the Machine at once
        ctx.data.setdefault("notes", []).append(ctx.payload["text"])

    flow = order_flow(actions={**order_flow().actions, "note": wait_for_the_other})
    registry = FlowRegistry((flow,))
    machine = registry.get("order_confirmation").machine
    engine = FlowEngine(registry, MemorySnapshotStore(), clock, services=Shop())
    for key in (ALICE, BOB):
        engine.start(key, "order_confirmation", {"order": key.user_id})
    results = {}

    def send(key: ConversationKey) -> None:
        results[key] = engine.handle(key, "note", {"text": f"from {key.user_id}"})

    threads = [threading.Thread(target=send, args=(key,)) for key in (ALICE, BOB)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert max(seen) == 2
    assert results[ALICE].snapshot.data["notes"] == ["from Ualice"]
    assert results[BOB].snapshot.data["notes"] == ["from bob"]
    assert len(machine.models) == 2  # both kept for later events, neither shared


def tiny(**changes) -> FlowDefinition:
    fields = {
        "name": "tiny",
        "version": 2,
        "initial": "ask",
        "states": (StateSpec("ask", timeout_seconds=60), StateSpec("done", final=True)),
        "transitions": (TransitionSpec("go", "ask", "done", ("ok",), (), ("log",)),),
        "guards": {"ok": lambda ctx: True},
        "actions": {"log": lambda ctx: None},
        "migrations": {1: lambda state, data: (state, data)},
    }
    return FlowDefinition(**{**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"initial": "done"}, "initial state 'done'"),
        ({"initial": "nowhere"}, "initial state 'nowhere'"),
        ({"transitions": (TransitionSpec("go", "ask", "nowhere"),)}, "unknown state 'nowhere'"),
        ({"transitions": (TransitionSpec("go", "elsewhere", "done"),)}, "unknown state"),
        ({"transitions": (TransitionSpec("go", "*", "done", ("nope",)),)}, "unknown guard"),
        ({"transitions": (TransitionSpec("go", "*", "done", unless=("x",)),)}, "unknown guard"),
        ({"transitions": (TransitionSpec("go", "*", "done", actions=("x",)),)}, "unknown action"),
        ({"states": (StateSpec("ask", on_enter=("x",)), StateSpec("done"))}, "unknown action"),
        ({"states": (StateSpec("ask", timeout_seconds=0), StateSpec("done"))}, "timeout"),
        ({"states": (StateSpec("ask"), StateSpec("ask"))}, "repeat"),
        ({"migrations": {2: lambda s, d: (s, d)}}, "migrations"),
        ({"version": 0, "migrations": {}}, "version"),
    ],
)
def test_invalid_definitions_are_refused_at_definition_time(changes: dict, problem: str) -> None:
    assert tiny().name == "tiny"
    with pytest.raises(ValueError, match=problem):
        tiny(**changes)


def test_a_flow_name_registers_once() -> None:
    registry = FlowRegistry((order_flow(),))
    with pytest.raises(ValueError):
        registry.register(order_flow())
    assert registry.names() == ["order_confirmation"]
    assert set(registry.get("order_confirmation").triggers("awaiting_payment")) == {
        "note",
        "paid",
        "timeout",
    }


def test_a_timeout_that_stays_put_clears_the_deadline(
    store: SnapshotStore, clock: FakeClock
) -> None:
    nudging = tiny(
        transitions=(
            TransitionSpec("go", "ask", "done"),
            TransitionSpec("timeout", "ask", None, actions=("log",)),
        ),
        actions={"log": lambda ctx: ctx.say("still there?")},
    )
    engine = FlowEngine(FlowRegistry((nudging,)), store, clock)
    engine.start(ALICE, "tiny")
    clock.advance(60)
    result = engine.expire(ALICE)
    assert result.timed_out and result.messages == ("still there?",)
    assert result.snapshot is not None and result.snapshot.expires_at is None
    clock.advance(86_400)
    assert engine.sweep() == []  # a past deadline carried on would be swept forever
    assert engine.handle(ALICE, "go").ended


def test_expire_without_a_flow(engine: FlowEngine) -> None:
    assert engine.expire(ALICE).outcome is Outcome.NO_FLOW


def test_before_save_runs_commands_first_and_a_refusal_keeps_the_flow_in_place(
    engine: FlowEngine,
) -> None:
    started = engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    seen: list[tuple[str | None, tuple[Command, ...]]] = []

    def out_of_stock(result: FlowResult) -> None:
        seen.append((result.state, result.commands))
        raise OutOfStock("T-shirt M is sold out")

    with pytest.raises(OutOfStock):
        engine.handle(ALICE, "confirm", before_save=out_of_stock)
    assert seen == [("awaiting_payment", (Command("order.confirm", {"order": "A-1"}),))]
    assert engine.active(ALICE) == started.snapshot

    accepted: list[FlowResult] = []
    result = engine.handle(ALICE, "confirm", before_save=accepted.append)
    assert accepted == [result]
    assert engine.active(ALICE) == result.snapshot


def test_before_save_is_not_called_when_nothing_is_written(engine: FlowEngine) -> None:
    engine.start(ALICE, "order_confirmation", {"order": "A-1"})
    calls: list[FlowResult] = []
    assert engine.handle(ALICE, "paid", before_save=calls.append).outcome is Outcome.NOT_ACCEPTED
    assert engine.expire(ALICE, before_save=calls.append).outcome is Outcome.NOT_DUE
    assert calls == []
    ended = engine.handle(ALICE, "cancel", before_save=calls.append)
    assert calls == [ended] and ended.ended


def test_each_committed_transition_is_one_log_line_and_transitions_own_are_quiet(
    engine: FlowEngine, caplog: pytest.LogCaptureFixture
) -> None:
    from web.logging_setup import setup_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("transitions").level)
    switches = {name: getattr(logging, name) for name in (
        "_srcfile", "logThreads", "logProcesses", "logMultiprocessing")}
    setup_logging(json_lines=True)
    root.addHandler(caplog.handler)
    try:
        engine.start(ALICE, "order_confirmation", {"order": "A-1"})
        engine.handle(ALICE, "confirm")
    finally:
        root.handlers[:], level, transitions_level = saved
        root.setLevel(level)
        for name, value in switches.items():
            setattr(logging, name, value)
        logging.getLogger("transitions").setLevel(transitions_level)
    # The start is a debug line: the trigger's line that follows it in the same
    # event names the flow.
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.getMessage() for r in lines] == [
        "flow order_confirmation: awaiting_confirmation -> awaiting_payment",
    ]
    assert lines[0].conversation == ALICE.as_str() and lines[0].trigger == "confirm"

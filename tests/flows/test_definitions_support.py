"""Fakes for the flow-definition tests (no Redis, no SQL), and the checks that hold
for all three flows: they compile, and every text they say is in both catalogs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po

from commerce.errors import IllegalTransition, NotFound
from commerce.identity import Channel, ConversationKey
from commerce.order_status import LABELS_ZH, OrderStatus
from flows.definitions import build_registry, chat_flows
from flows.definitions.services import CardRecord, FlowServices, run_commands
from flows.engine import FlowEngine
from flows.settings import TextOverrides
from flows.snapshots import MemorySnapshotStore
from flows.texts import AUTO_REPLY, BINDING_SUCCESS, Texts

REPO = Path(__file__).resolve().parents[2]
KEY = ConversationKey(Channel.LINE, "main", "Uamy")
T0 = datetime(2026, 5, 4, 2, 0, tzinfo=timezone.utc)
S = OrderStatus


@dataclass
class FakeOrders:
    orders: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    refuse: set = field(default_factory=set)

    def add(self, number, status=S.SENT, pay="transfer", total=1160, conversation_id=7):
        self.orders[number] = SimpleNamespace(number=number, status=status, total=total,
                                              payment_method=pay, conversation_id=conversation_id)

    def get(self, number):
        if number not in self.orders:
            raise NotFound(f"找不到訂單 {number}")
        return self.orders[number]

    def _record(self, name, number, **kw):
        if name in self.refuse:
            raise IllegalTransition("refused")
        self.calls.append((name, number, kw))

    def confirm(self, number, *, actor):
        self._record("confirm", number, actor=actor)
        self.orders[number].status = S.AWAITING_PAYMENT

    def submit_proof(self, number, *, media_id, source):
        self._record("submit_proof", number, media_id=media_id, source=source)
        self.orders[number].status = S.PROOF_SUBMITTED

    def set_proof_last5(self, number, digits):
        self._record("set_last5", number, digits=digits)


@dataclass
class FakeBindings:
    rows: dict = field(default_factory=dict)

    def is_bound(self, visitor_id, conversation_id):
        return (visitor_id, conversation_id) in self.rows

    def bind(self, visitor_id, conversation_id, *, member_ref=None):
        pair = (visitor_id, conversation_id)
        created = pair not in self.rows
        self.rows.setdefault(pair, SimpleNamespace(id=len(self.rows) + 1, member_ref=member_ref))
        return SimpleNamespace(binding=self.rows[pair], created=created)


@dataclass
class FakeCodes:
    bound: dict = field(default_factory=dict)

    def mark_bound(self, issue_id, info):
        self.bound[issue_id] = dict(info)
        return True


@dataclass
class FakeCards:
    cards: dict = field(default_factory=dict)

    def current(self, number):
        return self.cards.get(number)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    engine: FlowEngine
    services: FlowServices
    clock: Clock
    store: MemorySnapshotStore

    @property
    def orders(self) -> FakeOrders:
        return self.services.orders

    def before_save(self, result) -> None:
        run_commands(self.services, result.commands)

    def start(self, flow, trigger, payload, data=None):
        self.engine.start(KEY, flow, data or {"conversation_id": 7, "customer": "Amy (ab12cd)"})
        return self.handle(trigger, payload)

    def handle(self, trigger, payload=None):
        return self.engine.handle(KEY, trigger, payload, before_save=self.before_save)


def make_harness(app_config, locale="zh_TW", overrides=None) -> Harness:
    checkout = app_config.checkout()
    services = FlowServices(
        orders=FakeOrders(), bindings=FakeBindings(), codes=FakeCodes(), cards=FakeCards(),
        texts=Texts(locale, overrides or {}), payment_methods=checkout.payment_by_code(),
        delivery_methods=checkout.delivery_by_code(), public_base_url="https://shop.test",
    )
    clock = Clock()
    store = MemorySnapshotStore()
    engine = FlowEngine(build_registry(services.texts, 1800), store, clock=clock,
                        services=services)
    return Harness(engine, services, clock, store)


@pytest.fixture
def harness(app_config) -> Harness:
    return make_harness(app_config)


def texts_of(result) -> list[str]:
    return [m["text"] for m in result.messages if "text" in m]


def card(version: str = "v2") -> CardRecord:
    return CardRecord(version, "tok")


def test_every_flow_compiles_into_one_machine_with_a_reset_message():
    registry = build_registry(Texts())
    assert registry.names() == ["binding", "order_confirmation", "payment_proof"]
    for definition in chat_flows(Texts()):
        assert definition.reset_message["text"] == "先前的對話步驟已失效。"
        assert registry.get(definition.name).machine.models == []


def test_an_override_from_config_wins_only_when_set():
    texts = Texts("zh_TW", {"zh_TW": TextOverrides(binding_success="好了！"),
                            "en": TextOverrides()})
    assert texts.binding_success() == "好了！"
    assert texts.for_locale("en").binding_success().startswith("You're linked")
    assert texts.auto_reply() == AUTO_REPLY


def _catalog(locale: str) -> dict[str, str]:
    path = REPO / "flows" / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def _said_in_code() -> set[str]:
    sources = [*sorted((REPO / "flows" / "definitions").glob("*.py")),
               REPO / "bot" / "chat_router.py", REPO / "bot" / "order_cards.py",
               REPO / "bot" / "sweepers.py", REPO / "web" / "binding_api.py",
               *sorted((REPO / "bot" / "commands").glob("*.py"))]
    keywords = {"t": None, "_t": None, "texts": None, "_texts": None}
    found: set[str] = set()
    for source in sources:
        with source.open("rb") as handle:
            found |= {msg for _, msg, _, _ in extract("python", handle, keywords=keywords)}
    return found | {BINDING_SUCCESS, AUTO_REPLY, *LABELS_ZH.values()}


def test_every_customer_text_is_in_both_catalogs_and_english_is_complete():
    said = _said_in_code()
    zh, en = _catalog("zh_TW"), _catalog("en")
    assert said - set(zh) == set()
    assert set(zh) == set(en)
    assert [msgid for msgid, text in en.items() if not text or text == msgid] == []
    for msgid, text in en.items():
        assert sorted(_fields(msgid)) == sorted(_fields(text)), msgid


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_money_is_whole_dollars_with_grouping():
    assert Texts().money(1160) == "NT$1,160"
    assert Texts().money(-100) == "-NT$100"


def test_a_refused_command_leaves_nothing_saved(app_config):
    h = make_harness(app_config)
    h.orders.add("260504001")
    h.orders.refuse.add("confirm")
    with pytest.raises(IllegalTransition):
        h.start("order_confirmation", "confirm", {"number": "260504001", "card": "v1"})
    assert h.orders.orders["260504001"].status is S.SENT
    assert h.store.load(KEY).state == "tapped"


def test_the_leftover_start_state_is_swept_quietly(app_config):
    h = make_harness(app_config)
    h.engine.start(KEY, "payment_proof", {})
    h.clock.advance(minutes=3)
    assert h.engine.sweep() == [KEY]
    result = h.engine.expire(KEY)
    assert result.timed_out and result.messages == () and h.store.load(KEY) is None


def test_a_snapshot_from_a_newer_definition_is_dropped_with_a_message(app_config):
    from flows.snapshots import Snapshot

    h = make_harness(app_config)
    h.store.save(KEY, Snapshot("payment_proof", 2, "awaiting_last5", {"order": "1"}, 1, T0,
                               T0 + timedelta(minutes=30)), 0)
    result = h.handle("text", {"text": "12345"})
    assert result.outcome.value == "reset" and texts_of(result) == ["先前的對話步驟已失效。"]
    assert h.store.load(KEY) is None and h.orders.calls == []


def mermaid(definition) -> str:
    """A flow as drawn in docs/flows.md: ``source --> dest: trigger [guards]``."""
    lines = ["stateDiagram-v2", f"    [*] --> {definition.initial}"]
    timed = set()
    for tr in definition.transitions:
        for source in tr.sources:
            dest = source if tr.dest in (None, "=") else tr.dest
            guards = " and ".join([*tr.conditions, *(f"not {u}" for u in tr.unless)])
            lines.append(f"    {source} --> {dest}: {tr.trigger}" + (f" [{guards}]" if guards
                                                                        else ""))
            if tr.trigger == definition.timeout_trigger:
                timed.add(source)
    lines += [f"    {s.name} --> [*]: {definition.timeout_trigger}" for s in definition.states
              if s.timeout_seconds and s.name not in timed]
    lines += [f"    {s.name} --> [*]" for s in definition.states if s.final]
    return "\n".join(lines)


def test_docs_draw_every_flow_as_it_is_defined():
    docs = (REPO / "docs" / "flows.md").read_text(encoding="utf-8")
    for definition in chat_flows(Texts()):
        assert f"```mermaid\n{mermaid(definition)}\n```" in docs, definition.name

"""The production router on a real Redis and SQLite, without HTTP: which events go
to a waiting flow, which start one, and what everything else gets."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from PIL import Image as PILImage

from bot.events import EventKind, InboundEvent
from bot.messages import Buttons, Text
from bot.routing import InboundContext, Reply
from bot.sandbox.clock import SandboxClock
from commerce.identity import Channel, ConversationKey
from commerce.order_status import OrderStatus
from commerce.services.order_requests import LineRequest, OrderRequest
from flows.definitions.stores import IssueDetail

AUTO_REPLY = "感謝您的訊息，我們會盡快回覆您！"
_ids = itertools.count(1)


@dataclass
class FakeNotifier:
    sent: list = field(default_factory=list)

    def send(self, conversation_id, messages, **options):  # noqa: ANN001, ANN003, ANN201
        self.sent.append((conversation_id, list(messages), options))
        return "sent"


@dataclass
class Chat:
    """Hands events to the router the way the dispatcher does, and returns its replies."""

    container: object
    router: object
    clock: SandboxClock
    notifier: FakeNotifier

    def key(self, user: str, channel: str = "line") -> ConversationKey:
        account = "main" if channel == "line" else "100000000000001"
        return ConversationKey(Channel(channel), account, user)

    def event(self, user: str, kind: EventKind, channel: str = "line", **fields) -> list[Reply]:
        key = self.key(user, channel)
        conversations = self.container.conversations
        conv = conversations.ensure(key, user.title())
        event = InboundEvent(channel=key.channel, account=key.account, user_id=user, kind=kind,
                             event_id=f"e{next(_ids)}", timestamp=self.clock.now(), **fields)
        conversations.record_inbound(conv.id, event_id=event.event_id,
                                     kind=kind.value, at=event.timestamp)
        ctx = InboundContext(event, conversations.get(conv.id))
        return self.router.route(ctx)

    def says(self, user: str, text: str, channel: str = "line") -> list[Reply]:
        return self.event(user, EventKind.TEXT, channel, text=text)

    def taps(self, user: str, data: str, channel: str = "line") -> list[Reply]:
        return self.event(user, EventKind.POSTBACK, channel, postback_data=data)

    def photo(self) -> int:
        out = io.BytesIO()
        PILImage.new("RGB", (40, 60), (10, 90, 160)).save(out, "JPEG")
        return self.container.media.save_image(out.getvalue(), source="test")

    def image(self, user: str, media_id: int | None, error: str | None = None) -> list[Reply]:
        key = self.key(user)
        conversations = self.container.conversations
        conv = conversations.ensure(key, user.title())
        event = InboundEvent(channel=key.channel, account=key.account, user_id=user,
                             kind=EventKind.IMAGE, event_id=f"e{next(_ids)}",
                             timestamp=self.clock.now())
        conversations.record_inbound(conv.id, event_id=event.event_id, kind="image",
                                     at=event.timestamp)
        ctx = InboundContext(event, conversations.get(conv.id), media_id, error)
        return self.router.route(ctx)


@pytest.fixture
def chat(app_config, environment, redis_url):
    from commerce.demo import seed_demo
    from web.bootstrap import bootstrap
    from web.flow_wiring import default_router

    clock = SandboxClock(datetime(2026, 5, 4, 2, 0, tzinfo=timezone.utc))
    container = bootstrap(app_config, environment, redis_url=redis_url, clock=clock.now)
    seed_demo(container.catalog, container.customers)
    notifier = FakeNotifier()
    container._chat = SimpleNamespace(notifier=notifier)
    yield Chat(container, default_router(container), clock, notifier)
    container.close()


def texts(replies: list[Reply]) -> list[str]:
    return [m.text for r in replies for m in r.messages if isinstance(m, Text | Buttons)]


def awaiting_order(chat: Chat, user: str = "amy") -> str:
    conv = chat.container.conversations.ensure(chat.key(user), user.title())
    orders = chat.container.orders
    customer = chat.container.customers.find_by_contact("0922333444")
    order = orders.create(OrderRequest(customer_id=customer, delivery_method="711",
                                       payment_method="transfer", conversation_id=conv.id,
                                       lines=(LineRequest("TEA-OOLONG", 1),)), actor="test")
    orders.send(order.number, actor="test")
    orders.confirm(order.number, actor="test")
    return order.number


def test_other_messages_get_the_auto_reply_once_an_hour(chat):
    assert texts(chat.says("amy", "請問有貨嗎")) == [AUTO_REPLY]
    assert chat.event("amy", EventKind.STICKER) == []
    chat.clock.advance(59 * 60)
    assert chat.says("amy", "哈囉") == []
    chat.clock.advance(60)
    assert texts(chat.says("amy", "哈囉？")) == [AUTO_REPLY]
    assert texts(chat.says("bob", "hi")) == [AUTO_REPLY]  # per conversation


def test_follow_gets_a_welcome_and_a_plain_referral_nothing(chat):
    assert texts(chat.event("amy", EventKind.FOLLOW)) == [
        "歡迎加入！有任何問題都可以直接留言，我們會盡快回覆。"]
    assert chat.event("bob", EventKind.REFERRAL, "messenger", referral_ref="spring-ad") == []
    assert chat.event("amy", EventKind.UNFOLLOW) == []


def test_a_stale_or_unknown_button_gets_a_polite_reply(chat):
    assert texts(chat.taps("amy", "order.frobnicate:1")) == ["這個按鈕已失效，請使用最新的訊息。"]
    assert texts(chat.taps("amy", "proof.order:260504001")) == [
        "這個選項已失效，請再傳一次轉帳證明。"]


def test_an_image_without_an_order_awaiting_payment_is_a_normal_message(chat):
    assert texts(chat.image("amy", media_id=None, error="圖片太大")) == [
        "圖片未能保存（圖片太大），請再傳一次。"]
    assert texts(chat.image("amy", media_id=chat.photo())) == [AUTO_REPLY]


def test_while_digits_are_awaited_text_goes_to_the_flow_and_a_code_still_binds(chat):
    number = awaiting_order(chat)
    replies = chat.image("amy", media_id=None) + chat.image("amy", media_id=chat.photo())
    assert "已收到轉帳證明，等待商家核對" in texts(replies)
    assert chat.container.orders.get(number).status is OrderStatus.PROOF_SUBMITTED
    assert texts(chat.says("amy", "123")) == ["請輸入 5 位數字的帳號末五碼，或點「略過」。"]
    assert texts(chat.says("amy", "請問幾天到貨")) == [AUTO_REPLY]
    assert texts(chat.says("amy", "000000")) == [
        "這個代碼不正確或已過期，請回到購物網頁重新取得代碼。"]
    assert texts(chat.says("amy", "54321")) == ["已記下帳號末五碼 54321，謝謝！"]


def test_an_expired_wait_is_timed_out_first_and_the_input_routed_as_new(chat):
    awaiting_order(chat)
    chat.image("amy", media_id=chat.photo())
    chat.clock.advance(31 * 60)
    assert texts(chat.says("amy", "12345")) == [AUTO_REPLY]
    runtime = chat.container.extras["flow_runtime"]
    assert runtime.engine.active(chat.key("amy")) is None


def test_admin_alerts_go_to_every_admin_conversation_as_internal(chat):
    admins = chat.container.admins
    for user in ("boss", "clerk"):
        code = admins.invite()
        chat.container.conversations.ensure(chat.key(user), user)
        assert admins.redeem(code, ("line", "main", user))
    number = awaiting_order(chat)
    replies = chat.image("amy", media_id=chat.photo())
    alerts = [r for r in replies if r.internal]
    boss, clerk = (chat.container.conversations.ensure(chat.key(u)).id for u in ("boss", "clerk"))
    assert sorted(r.conversation_id for r in alerts) == sorted([boss, clerk])
    assert all(number in r.messages[0].text for r in alerts)


def test_an_instant_flow_does_not_displace_the_waiting_question(chat):
    first = awaiting_order(chat)
    chat.image("amy", media_id=chat.photo())
    runtime = chat.container.extras["flow_runtime"]
    waiting = runtime.engine.active(chat.key("amy"))
    assert texts(chat.taps("amy", f"order.confirm:{first}:old")) == [
        f"訂單 {first} 已經確認過了，目前狀態：等待商家核對。"]
    assert runtime.engine.active(chat.key("amy")) == waiting
    assert runtime.instant_store.load(chat.key("amy")) is None
    assert texts(chat.says("amy", "12345")) == ["已記下帳號末五碼 12345，謝謝！"]


@pytest.fixture
def round_trips(chat, monkeypatch):
    """Counts the router's Redis round trips as ``benchmarks/redis_probe.py`` does: a
    command alone is one, a pipeline is one, commands sent together (scripts
    included: ``ThreadConnections.evalsha``) are one."""
    import redis.client

    count = {"n": 0}
    client = chat.container.redis
    plain, batched = client.execute_command, redis.client.Pipeline.execute
    together = client.send_together

    def execute_command(*args, **options):  # noqa: ANN002, ANN003, ANN202
        count["n"] += 1
        return plain(*args, **options)

    def send_together(*commands):  # noqa: ANN002, ANN202
        count["n"] += 1
        return together(*commands)

    def execute(self, raise_on_error=True):  # noqa: ANN001, ANN202
        count["n"] += 1
        return batched(self, raise_on_error)

    monkeypatch.setattr(client, "execute_command", execute_command)
    monkeypatch.setattr(client, "send_together", send_together)
    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    return count


def test_a_binding_code_costs_the_snapshot_lookup_and_one_attempt(chat, round_trips):
    runtime = chat.container.extras["flow_runtime"]
    wrong = "這個代碼不正確或已過期，請回到購物網頁重新取得代碼。"
    assert texts(chat.says("bob", "000000")) == [wrong]
    runtime.codes.mark_bound("never-issued", {})  # both scripts are loaded once per server
    issued = runtime.codes.issue("visitor-1", Channel.LINE)
    runtime.issues.put(issued.id, IssueDetail("visitor-1", "line", None), timedelta(minutes=70))
    round_trips["n"] = 0
    assert texts(chat.says("amy", "000000")) == [wrong]
    assert round_trips["n"] == 2
    round_trips["n"] = 0
    assert texts(chat.says("amy", issued.code)) == [runtime.services.texts.binding_success()]
    assert round_trips["n"] == 3  # and the binding marked on the code's record

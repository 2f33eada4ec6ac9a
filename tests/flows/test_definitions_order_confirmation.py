"""The order-confirmation flow's decisions, without Redis: one tap, one answer, and
only a tap on the current card of an unconfirmed order changes anything."""

from __future__ import annotations

from commerce.order_status import OrderStatus as S
from tests.flows.test_definitions_support import KEY, card, make_harness, texts_of

N = "260504001"


def tap(h, version="v2", number=N):
    return h.start("order_confirmation", "confirm",
                   {"number": number, "card": version, "conversation_id": 7})


def test_confirming_a_transfer_order_asks_for_payment_with_both_buttons(app_config):
    h = make_harness(app_config)
    h.orders.add(N, total=1160)
    h.services.cards.cards[N] = card("v2")
    result = tap(h)
    assert result.state == "confirmed" and h.store.load(KEY) is None
    assert h.orders.calls == [("confirm", N, {"actor": "customer"})]
    [message] = result.messages
    assert message["type"] == "buttons"
    assert "請於 2026-05-07 10:00 前轉帳 NT$1,160 至 國泰世華銀行（013）帳號 123456789012" \
        in message["text"]
    assert [(a["type"], a["label"]) for a in message["actions"]] == [
        ("url", "去支付"), ("postback", "上傳轉帳證明")]
    assert message["actions"][0]["url"] == "https://shop.test/o/tok/pay"
    assert message["actions"][1]["data"] == f"proof.start:{N}"


def test_confirming_cash_on_delivery_says_it_ships_and_asks_nothing(app_config):
    h = make_harness(app_config, locale="en")
    h.orders.add(N, pay="cod", total=700)
    result = tap(h, version="whatever")  # no card on record: the order's state decides
    assert texts_of(result) == [
        f"Order {N} is confirmed, thank you! We'll ship it soon; please pay NT$700 on pickup "
        "or delivery."]


def test_a_second_tap_changes_nothing_and_says_it_is_already_confirmed(app_config):
    h = make_harness(app_config)
    h.orders.add(N)
    tap(h)
    again = tap(h)
    assert again.state == "already_confirmed" and again.commands == ()
    assert texts_of(again) == [f"訂單 {N} 已經確認過了，目前狀態：待付款。"]
    assert len(h.orders.calls) == 1


def test_a_tap_on_an_older_card_changes_nothing(app_config):
    h = make_harness(app_config)
    h.orders.add(N)
    h.services.cards.cards[N] = card("v3")
    result = tap(h, version="v2")
    assert result.state == "stale_card" and h.orders.calls == []
    assert h.orders.orders[N].status is S.SENT
    assert texts_of(result) == [f"這是訂單 {N} 較舊的訂單訊息，請使用最新傳送的訂單確認。"]


def test_a_cancelled_or_expired_order_cannot_be_confirmed(app_config):
    h = make_harness(app_config)
    h.orders.add(N, status=S.CANCELLED)
    h.orders.add("260504002", status=S.EXPIRED)
    assert texts_of(tap(h)) == [f"訂單 {N} 目前為「已取消」，無法確認。如需協助請直接留言給我們。"]
    assert "已逾期" in texts_of(tap(h, number="260504002"))[0]
    assert h.orders.calls == []


def test_an_unknown_order_is_not_found(app_config):
    h = make_harness(app_config)
    assert texts_of(tap(h, number="999")) == ["找不到訂單 999。"]

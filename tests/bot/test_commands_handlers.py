"""Merchant commands through the production router on a real Redis and SQLite:
who may use them, what they change, and what the customer is sent."""

from __future__ import annotations

import pytest

from bot.messages import OrderCard, Text
from commerce.order_status import OrderStatus
from tests.bot.test_chat_router import awaiting_order, chat  # noqa: F401 - the fixture

ORDER_PREFIX = "已建立訂單 "


@pytest.fixture
def boss(chat):  # noqa: F811 - uses the imported fixture
    code = chat.container.admins.invite()
    chat.container.conversations.ensure(chat.key("boss"), "老闆")
    assert chat.container.admins.redeem(code, ("line", "main", "boss"), "老闆")
    return "boss"


def answer(replies) -> str:
    [reply] = [r for r in replies if r.conversation_id is None]
    return reply.messages[0].text


def test_order_sends_the_card_to_the_customer_as_an_update(chat, boss):  # noqa: F811
    amy = chat.container.conversations.ensure(chat.key("amy"), "Amy")
    replies = chat.says(boss, f"/order {amy.short_id} TEA-OOLONG*2 pay=cod ship=home")
    [card_reply] = [r for r in replies if r.conversation_id == amy.id]
    number = answer(replies).removeprefix(ORDER_PREFIX).split("（")[0]
    [card] = card_reply.messages
    assert isinstance(card, OrderCard) and card.order_number == f"訂單編號 {number}"
    assert card_reply.automated_update and card_reply.applies_if == {"order": number,
                                                                      "status": "sent"}
    assert card.payment_text == "付款方式：貨到付款" and card.total_text == "總計 NT$1,280"
    order = chat.container.orders.get(number)
    assert order.status is OrderStatus.SENT and order.customer_name == "Amy"
    assert chat.container.conversations.get(amy.id).customer_id == order.customer_id


def test_repeats_and_wrong_states_change_nothing(chat, boss):  # noqa: F811
    number = awaiting_order(chat)
    assert answer(chat.says(boss, f"/resend {number}")).startswith(
        f"訂單 {number} 目前為「待付款」，只有待確認")
    refused = answer(chat.says(boss, f"/reject {number} 沒收到"))
    assert "沒有待核對的轉帳證明" in refused and "用法：/reject" in refused
    paid = chat.says(boss, f"/verify {number}")
    [told] = [r for r in paid if r.conversation_id is not None]
    assert told.messages == (Text(f"訂單 {number} 已確認收款，謝謝！我們會盡快為你出貨。"),)
    assert answer(chat.says(boss, f"/verify #{number}")) == \
        f"訂單 {number} 已是「已付款」，不需要再確認。"
    assert answer(chat.says(boss, f"/cancel {number}")).startswith(f"訂單 {number} 已取消")
    assert answer(chat.says(boss, f"/cancel {number}")) == f"訂單 {number} 已經是取消狀態。"
    assert chat.container.orders.get(number).status is OrderStatus.CANCELLED


def test_orders_lists_by_status_label_or_code(chat, boss):  # noqa: F811
    number = awaiting_order(chat)
    assert number in answer(chat.says(boss, "/orders awaiting_payment"))
    assert number in answer(chat.says(boss, "/orders 待付款"))
    assert answer(chat.says(boss, "/orders 已出貨")) == "沒有符合的訂單。"


def test_commands_from_a_customer_are_customer_messages(chat):  # noqa: F811
    number = awaiting_order(chat)
    replies = chat.says("amy", f"/verify {number}")
    assert [m.text for r in replies for m in r.messages] == ["感謝您的訊息，我們會盡快回覆您！"]
    assert chat.container.orders.get(number).status is OrderStatus.AWAITING_PAYMENT

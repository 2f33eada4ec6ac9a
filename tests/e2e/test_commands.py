"""Merchant commands end to end: registering with a code from `chatcart admin invite`,
the commands and their usage lines, and customers who type a slash."""

from __future__ import annotations

import pytest

from commerce.conversations import Conversation
from commerce.customers import Customer
from commerce.order_status import OrderStatus
from commerce.orders import Order
from tests.conftest import REPO
from tests.support.chat_story import (
    confirm_data,
    conversation,
    place_order,
    say_and_wait,
    status,
    texts,
)
from tests.support.live_shop import wait_until

pytestmark = pytest.mark.slow
AUTO_REPLY = "感謝您的訊息，我們會盡快回覆您！"


def invite_from_cli(monkeypatch, capsys, environment) -> str:
    from web.cli import main

    monkeypatch.setenv("CHATCART_CONFIG", str(REPO / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", environment.database_url)
    monkeypatch.setenv("CHATCART_SECRET_KEY", environment.secret_key)
    assert main(["admin", "invite"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def counts(shop) -> tuple[int, int]:
    with shop.container.uow() as session:
        return session.query(Order).count(), session.query(Customer).count()


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_an_admin_registers_with_a_cli_code_and_others_cannot_reuse_it(
        live_shop, monkeypatch, capsys, environment, channel):
    lin = live_shop.customer("阿林", channel)
    say_and_wait(lin, "/help", AUTO_REPLY)  # not an admin yet: a customer message
    code = invite_from_cli(monkeypatch, capsys, environment)
    say_and_wait(lin, f"/admin {code.lower()}", "已登記為管理員")
    say_and_wait(lin, "／help", "/order <顧客> <商品編號>*<數量>")
    assert "/customers [關鍵字]" in texts(lin)[-1]
    eve = live_shop.customer("Eve", channel)
    say_and_wait(eve, f"/admin {code}", "邀請碼無效")
    assert not live_shop.container.admins.is_admin(channel, eve.user.account, eve.user_id)


def test_a_customer_typing_a_slash_gets_the_auto_reply_once_an_hour(live_shop):
    live_shop.merchant("老闆")
    amy = live_shop.customer("Amy")
    say_and_wait(amy, "/orders", AUTO_REPLY)
    amy.says("/cancel 1")
    amy.says("在嗎")
    conv_id = conversation(live_shop, amy).id

    def handled() -> list[str]:
        history = live_shop.container.conversations.history(conv_id)
        return [m.status for m in history if m.direction == "in"]

    wait_until(lambda: handled() == ["handled"] * 3, message="all three handled")
    assert texts(amy) == [AUTO_REPLY]  # at most once an hour
    with live_shop.container.uow() as session:
        assert session.get(Conversation, conv_id).unread == 3  # still waiting for a person
    live_shop.emulator.clock.advance(61 * 60)
    say_and_wait(amy, "還在嗎", AUTO_REPLY)
    assert texts(amy) == [AUTO_REPLY, AUTO_REPLY]


def test_wrong_commands_answer_with_the_usage_line_and_change_nothing(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy")
    say_and_wait(amy, "hi")
    short = conversation(live_shop, amy).short_id
    before = counts(live_shop)
    for command, expected in [
        (f"/order {short} TEA-OOLONG", "用法：/order <顧客>"),
        (f"/order {short} NOPE*1", "找不到商品編號 NOPE"),
        (f"/order {short} TEA-OOLONG*1 ship=boat", "未知的配送方式代碼 boat"),
        ("/order nobody TEA-OOLONG*1", "找不到顧客「nobody」"),
        ("/verify", "用法：/verify <訂單編號>"),
        ("/reject 260101001", "用法：/reject <訂單編號> <原因>"),
        ("/ship 999", "找不到訂單 999"),
        ("/orders 很多", "不認得狀態「很多」"),
        ("/frobnicate", "沒有 /frobnicate 這個指令"),
    ]:
        say_and_wait(boss, command, expected)
    assert counts(live_shop) == before
    assert texts(amy) == [AUTO_REPLY]


def test_listing_showing_shipping_and_customer_notes(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy", "messenger")
    say_and_wait(amy, "hi")
    number = place_order(live_shop, boss, amy, "CAKE-12*1 ship=home pay=cod")
    say_and_wait(boss, "/orders 待確認", number)
    say_and_wait(boss, f"/order {number}", "土鳳梨酥禮盒 12入 ×1 NT$680")
    assert f"對話：Amy ({conversation(live_shop, amy).short_id})" in texts(boss)[-1]
    [data] = confirm_data(amy, number)
    amy.taps(data, "確認訂單")
    wait_until(lambda: status(live_shop, number) is OrderStatus.CONFIRMED, message="confirmed")
    say_and_wait(boss, f"/ship {number} TW123456789", "已出貨")
    wait_until(lambda: texts(amy)[-1] == f"訂單 {number} 已出貨！\n物流單號：TW123456789",
               message="the customer told")
    assert live_shop.container.orders.get(number).tracking_number == "TW123456789"

    short = conversation(live_shop, amy).short_id
    say_and_wait(boss, f"/tag {short} 回購客", "加上標籤「回購客」")
    say_and_wait(boss, f"/note {short} 喜歡 烏龍茶，週末收貨", "加上備註")
    customer_id = conversation(live_shop, amy).customer_id
    with live_shop.container.uow() as session:
        amy_record = session.get(Customer, customer_id)
        assert (amy_record.tags, amy_record.notes) == (["回購客"], "喜歡 烏龍茶，週末收貨")
    say_and_wait(boss, "/tag 0922333444 VIP", "加上標籤「VIP」")
    lin = live_shop.container.customers.find_by_contact("0922333444")
    with live_shop.container.uow() as session:
        assert session.get(Customer, lin).tags == ["VIP"]
    say_and_wait(boss, "/order meihua@example.com TEA-OOLONG*1", "還沒有聊天對話")

    say_and_wait(boss, "/customers", "最近的對話")
    assert f"{short}  Amy  Messenger" in texts(boss)[-1]
    say_and_wait(boss, "/customers 老闆", "最近的對話")
    assert short not in texts(boss)[-1]


def test_the_cli_prints_an_api_token_and_points_console_logins_to_later(
        live_shop, monkeypatch, capsys, environment):
    from web.cli import main

    invite_from_cli(monkeypatch, capsys, environment)
    assert main(["admin", "token", "--name", "shop"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("cc_") and live_shop.container.admins.check_token(token)
    assert main(["admin", "create"]) == 1
    assert "console" in capsys.readouterr().err

"""Order confirmation end to end: a merchant's /order command builds the order and
sends the card, the customer confirms in the chat on either channel, and duplicate,
concurrent, stale and late taps change nothing; unconfirmed orders expire."""

from __future__ import annotations

import threading

import pytest
import requests

from commerce.order_status import OrderStatus
from commerce.orders import Order
from tests.support.chat_story import (
    actions,
    confirm_data,
    conversation,
    link_kind,
    place_order,
    say_and_wait,
    status,
    texts,
)
from tests.support.live_shop import start_live_shop, wait_until

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_card_confirm_and_the_next_step(live_shop, channel):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy", channel)
    say_and_wait(amy, "你好", "感謝您的訊息")
    number = place_order(live_shop, boss, amy,
                         "TEA-OOLONG*2 CHOP-5*1 ship=711 pay=transfer note=週五前 寄出")
    order = live_shop.container.orders.get(number)
    assert (order.total, order.note, order.conversation_id) == (1519, "週五前 寄出",
                                                                conversation(live_shop, amy).id)
    assert status(live_shop, number) is OrderStatus.SENT
    [detail] = [url for label, url in actions(amy, link_kind(channel)) if label == "查看訂單詳情"]
    token = detail.rsplit("/o/", 1)[1]
    page = requests.get(f"{live_shop.url}/o/{token}", timeout=10)
    assert page.status_code == 200 and number in page.text
    [data] = confirm_data(amy, number)

    amy.taps(data, "確認訂單")
    wait_until(lambda: any("已確認，謝謝！請於" in t for t in texts(amy)), message="next step")
    assert status(live_shop, number) is OrderStatus.AWAITING_PAYMENT
    with live_shop.container.uow() as session:
        assert session.query(Order).filter_by(number=number).one().accepted_terms_at is not None
    labels = [label for label, _ in actions(amy, link_kind(channel))]
    assert "去支付" in labels
    assert ("上傳轉帳證明", f"proof.start:{number}") in actions(amy)

    amy.taps(data, "確認訂單")
    wait_until(lambda: texts(amy)[-1] == f"訂單 {number} 已經確認過了，目前狀態：待付款。",
               message="the polite duplicate reply")
    assert status(live_shop, number) is OrderStatus.AWAITING_PAYMENT


def test_two_taps_at_once_confirm_once(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy")
    say_and_wait(amy, "hi")
    number = place_order(live_shop, boss, amy)
    [data] = confirm_data(amy, number)
    taps = [threading.Thread(target=amy.taps, args=(data, "確認訂單")) for _ in range(2)]
    for tap in taps:
        tap.start()
    for tap in taps:
        tap.join(timeout=10)
    wait_until(lambda: any("已經確認過了" in t for t in texts(amy)), message="both answers")
    assert sum("已確認，謝謝！" in t for t in texts(amy)) == 1
    events = live_shop.container.orders.get(number).events
    assert [e.to_status for e in events].count("confirmed") == 1


def test_old_cards_and_closed_orders_change_nothing(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy", "messenger")
    say_and_wait(amy, "hi")
    number = place_order(live_shop, boss, amy)
    say_and_wait(boss, f"/resend {number}", "已重新傳送")
    wait_until(lambda: len(confirm_data(amy, number)) == 2, message="the second card")
    old, new = confirm_data(amy, number)
    assert old != new
    amy.taps(old, "確認訂單")
    wait_until(lambda: "較舊的訂單訊息" in texts(amy)[-1], message="the stale-card reply")
    assert status(live_shop, number) is OrderStatus.SENT

    say_and_wait(boss, f"/cancel {number}", "已取消")
    wait_until(lambda: f"訂單 {number} 已取消。如有疑問請直接留言給我們。" in texts(amy),
               message="the customer told")
    amy.taps(new, "確認訂單")
    wait_until(lambda: "無法確認" in texts(amy)[-1], message="the closed-order reply")
    assert "已取消" in texts(amy)[-1] and status(live_shop, number) is OrderStatus.CANCELLED


def test_cash_on_delivery_is_ready_to_ship_after_confirming(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy")
    say_and_wait(amy, "hi")
    number = place_order(live_shop, boss, amy, "CAKE-6*1 ship=home pay=cod")
    [data] = confirm_data(amy, number)
    amy.taps(data, "確認訂單")
    wait_until(lambda: any("請於取貨或收貨時付款" in t for t in texts(amy)), message="next step")
    assert status(live_shop, number) is OrderStatus.CONFIRMED


@pytest.fixture
def quick_shop(app_config, environment, redis_url):
    """A live shop whose sweepers run every 0.2 s."""
    from commerce.demo import seed_demo

    flows = app_config.flows.model_copy(update={"sweep_interval_seconds": 0.2})
    shop = start_live_shop(app_config.model_copy(update={"flows": flows}), environment,
                           redis_url)
    seed_demo(shop.container.catalog, shop.container.customers)
    yield shop
    shop.stop()


def stock(shop, sku: str) -> int:
    return shop.container.catalog.variant_by_sku(sku).stock


def test_an_unconfirmed_order_expires_after_three_days_and_releases_its_stock(quick_shop):
    boss = quick_shop.merchant("老闆")
    amy = quick_shop.customer("Amy")
    say_and_wait(amy, "hi")
    before = stock(quick_shop, "TEA-OOLONG")
    number = place_order(quick_shop, boss, amy, "TEA-OOLONG*3")
    assert stock(quick_shop, "TEA-OOLONG") == before - 3
    [data] = confirm_data(amy, number)
    quick_shop.emulator.clock.advance(71 * 3600)
    assert status(quick_shop, number) is OrderStatus.SENT
    quick_shop.emulator.clock.advance(3600 + 60)
    wait_until(lambda: status(quick_shop, number) is OrderStatus.EXPIRED, message="expiry")
    assert stock(quick_shop, "TEA-OOLONG") == before
    wait_until(lambda: any("已超過確認期限" in t for t in texts(amy)), message="customer told")
    amy.taps(data, "確認訂單")
    wait_until(lambda: "已逾期" in texts(amy)[-1], message="the expired-order reply")


def test_a_card_for_a_silent_messenger_customer_waits_for_their_next_message(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy", "messenger")
    say_and_wait(amy, "hi")
    live_shop.emulator.clock.advance(25 * 3600)
    short = conversation(live_shop, amy).short_id
    say_and_wait(boss, f"/order {short} TEA-OOLONG*1", "已建立訂單")
    wait_until(lambda: any("訊息暫緩" in t for t in texts(boss)), message="the merchant told")
    assert len(texts(amy)) == 1  # outside the 24-hour window: held, not sent
    amy.says("我回來了")
    wait_until(lambda: any("請確認您的訂單" in t for t in texts(amy)), message="the held card")

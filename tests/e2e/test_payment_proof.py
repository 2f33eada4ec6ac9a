"""Transfer proofs end to end: a photo (or the upload button, then a photo) reaches
the right order, the account digits are asked for, every admin is alerted, and the
merchant's /verify and /reject reach the customer, on both channels."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from commerce.order_status import OrderStatus
from commerce.records import PaymentProof
from tests.support.chat_story import (
    actions,
    confirm_data,
    conversation,
    place_order,
    say_and_wait,
    status,
    texts,
)
from tests.support.live_shop import start_live_shop, wait_until

pytestmark = pytest.mark.slow

RECEIVED = "已收到轉帳證明，等待商家核對"
ASK_LAST5 = "方便的話，請輸入轉出帳號的末五碼，方便商家核對；不方便可點「略過」。"


def slip(colour=(20, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 300), colour).save(out, "JPEG")
    return out.getvalue()


def awaiting_payment(shop, boss, customer, terms="TEA-OOLONG*1") -> str:
    number = place_order(shop, boss, customer, terms)
    [data] = confirm_data(customer, number)
    customer.taps(data, "確認訂單")
    wait_until(lambda: status(shop, number) is OrderStatus.AWAITING_PAYMENT, message="confirmed")
    wait_until(lambda: any("已確認，謝謝" in t for t in texts(customer)[-2:]), message="told")
    return number


def proofs(shop, number: str) -> list[tuple[int | None, str | None, str]]:
    order_id = shop.container.orders.get(number).id
    with shop.container.uow() as session:
        rows = session.query(PaymentProof).filter_by(order_id=order_id).order_by(PaymentProof.id)
        return [(p.media_id, p.account_last5, p.status) for p in rows]


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_a_photo_is_attached_digits_asked_admins_alerted_then_verified(live_shop, channel):
    boss = live_shop.merchant("老闆")
    helper = live_shop.merchant("店員", "messenger")
    amy = live_shop.customer("Amy", channel)
    say_and_wait(amy, "hi")
    number = awaiting_payment(live_shop, boss, amy)
    amy.sends_image(slip())
    wait_until(lambda: texts(amy)[-2:] == [RECEIVED, ASK_LAST5], message="received + question")
    assert status(live_shop, number) is OrderStatus.PROOF_SUBMITTED
    [(media_id, last5, state)] = proofs(live_shop, number)
    assert media_id is not None and last5 is None and state == "submitted"
    short = conversation(live_shop, amy).short_id
    for admin in (boss, helper):
        wait_until(lambda admin=admin: any(f"訂單 {number}" in t and short in t
                                           and "/o/" in t for t in texts(admin)),
                   message="the admin alert")

    amy.says("１２３４５")
    wait_until(lambda: texts(amy)[-1] == "已記下帳號末五碼 12345，謝謝！", message="digits")
    assert proofs(live_shop, number)[0][1] == "12345"

    say_and_wait(boss, f"/verify {number}", "已改為已付款")
    wait_until(lambda: texts(amy)[-1] == f"訂單 {number} 已確認收款，謝謝！我們會盡快為你出貨。",
               message="the customer told")
    assert status(live_shop, number) is OrderStatus.PAID


def test_the_upload_button_then_a_photo_and_a_rejection_with_its_reason(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy", "messenger")
    say_and_wait(amy, "hi")
    number = awaiting_payment(live_shop, boss, amy)
    amy.taps(f"proof.start:{number}", "上傳轉帳證明")
    wait_until(lambda: texts(amy)[-1] == f"請傳送訂單 {number} 的轉帳證明截圖或照片。",
               message="the photo prompt")
    amy.sends_image(slip())
    wait_until(lambda: ASK_LAST5 in texts(amy)[-1:], message="the digits question")
    amy.taps("proof.skip", "略過", quick_reply=True)
    wait_until(lambda: texts(amy)[-1] == "好的，商家會直接核對入帳，謝謝！", message="skipped")

    say_and_wait(boss, f"/reject {number} 金額不符，少了 60 元", "已退回待付款")
    wait_until(lambda: "金額不符，少了 60 元" in texts(amy)[-1], message="the reason told")
    assert status(live_shop, number) is OrderStatus.AWAITING_PAYMENT
    assert proofs(live_shop, number)[0][2] == "rejected"
    assert ("上傳轉帳證明", f"proof.start:{number}") in actions(amy)[-2:]
    amy.sends_image(slip((200, 30, 30)))  # a second try goes to the same order
    wait_until(lambda: status(live_shop, number) is OrderStatus.PROOF_SUBMITTED,
               message="the second proof")
    assert len(proofs(live_shop, number)) == 2


def test_with_several_orders_awaiting_payment_the_customer_picks_one(live_shop):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy")
    say_and_wait(amy, "hi")
    first = awaiting_payment(live_shop, boss, amy, "TEA-OOLONG*1")
    second = awaiting_payment(live_shop, boss, amy, "CHOP-5*1")
    amy.sends_image(slip())
    wait_until(lambda: "哪一筆訂單" in texts(amy)[-1], message="the question")
    choices = [d for _, d in actions(amy) if d.startswith("proof.order:")]
    assert sorted(choices) == sorted([f"proof.order:{first}", f"proof.order:{second}"])
    assert proofs(live_shop, first) == [] and proofs(live_shop, second) == []
    amy.taps(f"proof.order:{second}", f"#{second}")
    wait_until(lambda: texts(amy)[-2:] == [RECEIVED, ASK_LAST5], message="attached")
    assert status(live_shop, second) is OrderStatus.PROOF_SUBMITTED
    assert status(live_shop, first) is OrderStatus.AWAITING_PAYMENT


@pytest.fixture
def quick_shop(app_config, environment, redis_url):
    from commerce.demo import seed_demo

    flows = app_config.flows.model_copy(update={"sweep_interval_seconds": 0.2})
    shop = start_live_shop(app_config.model_copy(update={"flows": flows}), environment,
                           redis_url)
    seed_demo(shop.container.catalog, shop.container.customers)
    yield shop
    shop.stop()


def test_an_unanswered_choice_is_swept_and_the_customer_told(quick_shop):
    boss = quick_shop.merchant("老闆")
    amy = quick_shop.customer("Amy")
    say_and_wait(amy, "hi")
    awaiting_payment(quick_shop, boss, amy, "TEA-OOLONG*1")
    awaiting_payment(quick_shop, boss, amy, "CHOP-5*1")
    amy.sends_image(slip())
    wait_until(lambda: "哪一筆訂單" in texts(amy)[-1], message="the question")
    quick_shop.emulator.clock.advance(31 * 60)
    wait_until(lambda: texts(amy)[-1].startswith("沒有收到你選擇的訂單"), message="swept")
    assert quick_shop.container.extras["flow_runtime"].engine.active(
        conversation(quick_shop, amy).key) is None

"""The payment-proof flow's decisions and waits, without Redis."""

from __future__ import annotations

from commerce.order_status import OrderStatus as S
from flows.definitions.messages import is_for_admins
from tests.flows.test_definitions_support import KEY, T0, card, make_harness, texts_of

A, B = "260504001", "260504002"
RECEIVED = "已收到轉帳證明，等待商家核對"
ASK_LAST5 = "方便的話，請輸入轉出帳號的末五碼，方便商家核對；不方便可點「略過」。"


def awaiting(h, *numbers):
    for number in numbers:
        h.orders.add(number, status=S.AWAITING_PAYMENT, total=1160)


def image(h, *orders, media_id=41):
    return h.start("payment_proof", "image", {"media_id": media_id, "orders": list(orders)})


def customer_texts(result):
    return [m["text"] for m in result.messages if not is_for_admins(m)]


def test_an_image_with_one_order_awaiting_payment_is_attached_then_digits_are_asked(
        app_config):
    h = make_harness(app_config)
    awaiting(h, A)
    h.services.cards.cards[A] = card()
    result = image(h, A)
    assert h.orders.calls == [("submit_proof", A, {"media_id": 41, "source": "chat"})]
    assert customer_texts(result) == [RECEIVED, ASK_LAST5]
    [alert] = [m["message"]["text"] for m in result.messages if is_for_admins(m)]
    assert f"Amy (ab12cd) 的訂單 {A}（NT$1,160）已上傳轉帳證明" in alert
    assert "https://shop.test/o/tok" in alert and f"/verify {A}" in alert
    skip = result.messages[-1]["quick_replies"][0]
    assert (skip["label"], skip["data"]) == ("略過", "proof.skip")
    snapshot = h.store.load(KEY)
    assert snapshot.state == "awaiting_last5" and snapshot.expires_at == T0.replace(minute=30)


def test_five_digits_are_saved_and_end_the_flow(app_config):
    h = make_harness(app_config)
    awaiting(h, A)
    image(h, A)
    result = h.handle("text", {"text": "１２３４５"})
    assert texts_of(result) == ["已記下帳號末五碼 12345，謝謝！"]
    assert h.orders.calls[-1] == ("set_last5", A, {"digits": "12345"})
    assert result.ended and h.store.load(KEY) is None


def test_the_digits_are_skippable_by_button_or_word(app_config):
    for trigger, payload in (("skip", None), ("text", {"text": "略過"})):
        h = make_harness(app_config)
        awaiting(h, A)
        image(h, A)
        result = h.handle(trigger, payload)
        assert texts_of(result) == ["好的，商家會直接核對入帳，謝謝！"] and result.ended
        assert [c[0] for c in h.orders.calls] == ["submit_proof"]


def test_a_mistyped_number_is_asked_again_and_other_words_pass_through(app_config):
    h = make_harness(app_config)
    awaiting(h, A)
    image(h, A)
    before = h.store.load(KEY)
    h.clock.advance(minutes=5)
    again = h.handle("text", {"text": "1234"})
    assert texts_of(again) == ["請輸入 5 位數字的帳號末五碼，或點「略過」。"]
    assert h.store.load(KEY).expires_at == before.expires_at  # the wait is not extended
    assert h.handle("text", {"text": "請問何時出貨"}).outcome.value == "rejected"
    assert h.handle("text", {"text": "482913"}).outcome.value == "rejected"  # a binding code


def test_several_orders_ask_which_and_the_choice_attaches_the_kept_image(app_config):
    h = make_harness(app_config)
    awaiting(h, A, B)
    asked = image(h, A, B, media_id=77)
    assert texts_of(asked) == ["你有多筆待付款訂單，這張轉帳證明是哪一筆訂單的？"]
    choices = [(q["label"], q["data"]) for q in asked.messages[0]["quick_replies"]]
    assert choices == [(f"#{A} NT$1,160", f"proof.order:{A}"),
                       (f"#{B} NT$1,160", f"proof.order:{B}"), ("取消", "proof.cancel")]
    assert h.orders.calls == []
    chosen = h.handle("choose", {"number": B})
    assert customer_texts(chosen) == [RECEIVED, ASK_LAST5]
    assert h.orders.calls == [("submit_proof", B, {"media_id": 77, "source": "chat"})]


def test_a_choice_that_is_no_longer_valid_asks_again_and_cancel_ends_it(app_config):
    h = make_harness(app_config)
    awaiting(h, A, B)
    image(h, A, B)
    h.orders.orders[A].status = S.CANCELLED
    again = h.handle("choose", {"number": A})
    assert [q["data"] for q in again.messages[0]["quick_replies"]] == [
        f"proof.order:{B}", "proof.cancel"]
    assert texts_of(h.handle("cancel")) == ["好的，這張圖片不會當作轉帳證明。"]
    assert h.orders.calls == [] and h.store.load(KEY) is None


def test_an_unanswered_choice_times_out_and_the_customer_is_told(app_config):
    h = make_harness(app_config)
    awaiting(h, A, B)
    image(h, A, B)
    h.clock.advance(minutes=31)
    assert h.engine.sweep() == [KEY]
    result = h.engine.expire(KEY)
    assert result.timed_out and texts_of(result) == [
        "沒有收到你選擇的訂單，這張轉帳證明尚未送出；請再傳一次轉帳證明。"]
    assert h.store.load(KEY) is None and h.orders.calls == []


def test_unanswered_digits_end_quietly(app_config):
    h = make_harness(app_config)
    awaiting(h, A)
    image(h, A)
    h.clock.advance(minutes=31)
    result = h.handle("text", {"text": "12345"})  # too late: not applied
    assert result.timed_out and result.messages == ()
    assert [c[0] for c in h.orders.calls] == ["submit_proof"]


def test_the_upload_button_waits_for_a_photo_of_a_payable_order(app_config):
    h = make_harness(app_config)
    awaiting(h, A)
    asked = h.start("payment_proof", "upload_requested", {"number": A})
    assert texts_of(asked) == [f"請傳送訂單 {A} 的轉帳證明截圖或照片。"]
    assert asked.messages[0]["quick_replies"] == [{"type": "camera_roll", "label": "選擇照片"}]
    sent = h.handle("image", {"media_id": 5})
    assert customer_texts(sent) == [RECEIVED, ASK_LAST5]
    assert h.orders.calls == [("submit_proof", A, {"media_id": 5, "source": "chat"})]


def test_the_upload_button_of_a_paid_or_foreign_order_changes_nothing(app_config):
    h = make_harness(app_config)
    h.orders.add(A, status=S.PAID)
    h.orders.add(B, status=S.AWAITING_PAYMENT, conversation_id=99)
    for number in (A, B):
        result = h.start("payment_proof", "upload_requested", {"number": number})
        assert texts_of(result) == [f"訂單 {number} 目前不需要上傳轉帳證明。"]
    assert h.orders.calls == []

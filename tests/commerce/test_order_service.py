"""Order service on a real SQLite file: stock, lifecycle actions, credit, expiry."""

import threading
from datetime import datetime, timedelta, timezone

import pytest

from commerce.errors import (
    IllegalTransition,
    LimitExceeded,
    NotFound,
    OutOfStock,
    ValidationError,
)
from commerce.order_status import OrderStatus
from commerce.services.order_requests import CustomItemRequest, LineRequest, OrderRequest

S = OrderStatus


def stock(shop, sku):
    return shop.catalog.variant_by_sku(sku).stock


def customer_id(shop, phone="0912345678"):
    return shop.customers.find_by_contact(phone)


def request_for(shop, *lines, pay="transfer", ship="711", **kw):
    return OrderRequest(
        customer_id=customer_id(shop), delivery_method=ship, payment_method=pay,
        lines=tuple(LineRequest(sku, qty) for sku, qty in lines), **kw,
    )


def test_create_snapshots_items_reserves_stock_and_totals(shop):
    before = stock(shop, "TEA-OOLONG")
    order = shop.orders.create(
        request_for(shop, ("TEA-OOLONG", 2), ("SHIRT-BLU-M", 1)), actor="merchant")
    assert order.status is S.DRAFT
    assert [(i.sku, i.quantity, i.unit_price, i.line_total) for i in order.items] == [
        ("TEA-OOLONG", 2, 580, 1160), ("SHIRT-BLU-M", 1, 890, 890)]
    assert order.items[1].variant_label == "藍 / M"
    assert order.subtotal == 2050
    assert order.shipping_fee == 0  # 7-ELEVEN is free from 1500
    assert order.total == 2050
    assert stock(shop, "TEA-OOLONG") == before - 2


def test_order_numbers_are_daily_sequences(shop):
    first = shop.orders.create(request_for(shop, ("CHOP-5", 1)), actor="m")
    second = shop.orders.create(request_for(shop, ("CHOP-5", 1)), actor="m")
    assert len(first.number) == 9 and first.number.isdigit()
    assert int(second.number) == int(first.number) + 1


def test_shipping_fee_applies_below_free_threshold(shop):
    order = shop.orders.create(request_for(shop, ("CHOP-5", 1)), actor="m")
    assert (order.subtotal, order.shipping_fee, order.total) == (299, 60, 359)


def test_out_of_stock_refuses_and_changes_nothing(shop):
    before = stock(shop, "MUG-SAND")
    with pytest.raises(OutOfStock, match="MUG-SAND"):
        shop.orders.create(request_for(shop, ("TEA-RUBY", 1), ("MUG-SAND", before + 1)),
                           actor="m")
    assert stock(shop, "MUG-SAND") == before
    assert stock(shop, "TEA-RUBY") == 25
    assert shop.orders.list() == []


def test_concurrent_orders_never_oversell(shop):
    remaining = stock(shop, "MUG-SAND")  # 6 in the demo store
    results: list[str] = []
    barrier = threading.Barrier(8)

    def buy():
        barrier.wait()
        try:
            shop.orders.create(request_for(shop, ("MUG-SAND", 1)), actor="m")
            results.append("ok")
        except OutOfStock:
            results.append("out")

    threads = [threading.Thread(target=buy) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count("ok") == remaining
    assert results.count("out") == 8 - remaining
    assert stock(shop, "MUG-SAND") == 0


def test_gift_and_custom_items(shop):
    order = shop.orders.create(
        request_for(shop, ("TEA-RUBY", 1), gifts=(LineRequest("GIFT-POUCH", 1),),
                    custom_items=(CustomItemRequest("客製刻字", 150, 2),)),
        actor="m")
    kinds = {i.kind: i for i in order.items}
    assert kinds["gift"].line_total == 0 and kinds["gift"].unit_price == 0
    assert kinds["custom"].line_total == 300
    assert order.subtotal == 450 + 300
    assert stock(shop, "GIFT-POUCH") == 29


def test_gift_must_be_a_gift_product(shop):
    with pytest.raises(ValidationError, match="贈品"):
        shop.orders.create(request_for(shop, gifts=(LineRequest("TEA-RUBY", 1),)), actor="m")
    with pytest.raises(ValidationError, match="贈品"):
        shop.orders.create(request_for(shop, ("GIFT-POUCH", 1)), actor="m")


@pytest.mark.parametrize("kwargs, error", [
    (dict(ship="ufo"), ValidationError),
    (dict(pay="bitcoin"), ValidationError),
    (dict(tags=tuple(f"t{i}" for i in range(11))), LimitExceeded),
    (dict(note="x" * 201), LimitExceeded),
])
def test_bad_requests_are_refused_before_stock_moves(shop, kwargs, error):
    with pytest.raises(error):
        shop.orders.create(request_for(shop, ("TEA-RUBY", 1), **kwargs), actor="m")
    assert stock(shop, "TEA-RUBY") == 25


def test_unknown_sku(shop):
    with pytest.raises(NotFound, match="NOPE"):
        shop.orders.create(request_for(shop, ("NOPE", 1)), actor="m")


def test_transfer_order_full_path(shop):
    order = shop.orders.create(request_for(shop, ("TEA-RUBY", 1)), actor="m")
    shop.orders.send(order.number, actor="merchant")
    first = shop.orders.confirm(order.number, actor="customer")
    again = shop.orders.confirm(order.number, actor="customer")
    assert first.changed and first.order.status is S.AWAITING_PAYMENT
    assert first.order.payment_due_at is not None
    assert not again.changed and again.order.status is S.AWAITING_PAYMENT
    shop.orders.submit_proof(order.number, media_id=None, source="chat")
    shop.orders.set_proof_last5(order.number, "12345")
    rejected = shop.orders.reject_proof(order.number, "金額不符", actor="merchant")
    assert rejected.status is S.AWAITING_PAYMENT
    shop.orders.submit_proof(order.number, media_id=None, source="web", account_last5="54321")
    paid = shop.orders.verify_payment(order.number, actor="merchant")
    assert paid.changed and paid.order.status is S.PAID
    shipped = shop.orders.ship(order.number, actor="merchant", tracking="TW123")
    assert shipped.tracking_number == "TW123"
    done = shop.orders.complete(order.number, actor="merchant")
    assert [e.to_status for e in done.events] == [
        "sent", "confirmed", "awaiting_payment", "proof_submitted", "awaiting_payment",
        "proof_submitted", "paid", "shipped", "completed"]


def test_cash_on_delivery_confirms_to_ready_to_ship(shop):
    order = shop.orders.create(request_for(shop, ("TEA-RUBY", 1), ship="home", pay="cod"),
                               actor="m")
    shop.orders.send(order.number, actor="m")
    confirmed = shop.orders.confirm(order.number, actor="customer").order
    assert confirmed.status is S.CONFIRMED
    assert shop.orders.ship(order.number, actor="m").status is S.SHIPPED


def test_transfer_order_cannot_ship_before_payment(shop):
    order = shop.orders.create(request_for(shop, ("TEA-RUBY", 1)), actor="m")
    shop.orders.send(order.number, actor="m")
    with pytest.raises(IllegalTransition):
        shop.orders.ship(order.number, actor="m")


def test_reject_without_proof_is_refused(shop):
    order = shop.orders.create(request_for(shop, ("TEA-RUBY", 1)), actor="m")
    shop.orders.send(order.number, actor="m")
    shop.orders.confirm(order.number, actor="c")
    with pytest.raises(IllegalTransition, match="待付款"):
        shop.orders.reject_proof(order.number, "no", actor="m")


def test_bad_last5_refused(shop):
    order = shop.orders.create(request_for(shop, ("TEA-RUBY", 1)), actor="m")
    with pytest.raises(ValidationError):
        shop.orders.submit_proof(order.number, media_id=None, source="chat", account_last5="12a45")


def test_cancel_releases_stock_once(shop):
    order = shop.orders.create(request_for(shop, ("TEA-RUBY", 3)), actor="m")
    assert stock(shop, "TEA-RUBY") == 22
    assert shop.orders.cancel(order.number, actor="m").changed
    assert not shop.orders.cancel(order.number, actor="m").changed
    assert stock(shop, "TEA-RUBY") == 25
    with pytest.raises(IllegalTransition):
        shop.orders.confirm(order.number, actor="customer")


def test_unconfirmed_orders_expire_and_release_stock(shop):
    now = [datetime(2026, 11, 23, 12, tzinfo=timezone.utc)]
    shop.orders._clock = lambda: now[0]
    order = shop.orders.create(request_for(shop, ("TEA-RUBY", 2)), actor="m")
    shop.orders.send(order.number, actor="m")
    now[0] += timedelta(hours=71)
    assert shop.orders.expire_due() == []
    now[0] += timedelta(hours=2)
    expired = shop.orders.expire_due()
    assert [o.number for o in expired] == [order.number]
    assert shop.orders.get(order.number).status is S.EXPIRED
    assert stock(shop, "TEA-RUBY") == 25


def test_custom_item_marked_show_in_shop_is_listed_in_the_catalogue(shop):
    order = shop.orders.create(
        request_for(shop, custom_items=(
            CustomItemRequest("手工刻字杯", 680, 1, image_url="/media/cup.jpg",
                              show_in_shop=True),
            CustomItemRequest("急件處理費", 100, 1))),
        actor="m")
    listed = order.items[0].sku
    assert listed.startswith("CUSTOM-") and order.items[1].sku is None
    row = shop.catalog.variant_by_sku(listed)
    assert (row.product, row.price, row.stock, row.hidden) == ("手工刻字杯", 680, 0, False)
    assert "急件處理費" not in {r.product for r in shop.catalog.list_rows()}
    assert order.subtotal == 780

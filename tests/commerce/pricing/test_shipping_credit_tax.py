"""Stages 6-8: shipping, store credit, tax and totals."""

from __future__ import annotations

import pytest

from commerce.errors import ValidationError
from commerce.payment import PaymentMethod
from commerce.pricing import CouponRequest, Parcel
from tests.commerce.pricing.factories import (
    assert_consistent,
    delivery,
    line,
    quote,
    rules,
)

THRESHOLD = {
    "type": "spend_threshold",
    "id": "spend",
    "name": "滿千折百",
    "min_spend": 1000,
    "amount_off": 100,
}
FREE_SHIP = {"type": "free_shipping_over", "id": "ship999", "name": "滿999免運", "min_spend": 999}


@pytest.mark.parametrize(
    ("cart", "promos", "charged", "reason"),
    [
        ([line("a", 1499)], (), 60, None),
        ([line("a", 1500)], (), 0, "滿 NT$1,500 免運"),
        # the threshold is judged after discounts: 1550 − 100 = 1450
        ([line("a", 1550)], (THRESHOLD,), 60, None),
        ([line("a", 999)], (FREE_SHIP,), 0, "滿999免運"),
        ([line("a", 998), line("g", 100, is_gift=True)], (FREE_SHIP,), 60, None),
        ([line("a", 999)], ({**FREE_SHIP, "delivery_codes": ["home"]},), 60, None),
    ],
)
def test_shipping_fee_and_free_shipping(cart, promos, charged, reason):
    result = quote(cart, rules(*promos), delivery=delivery(fee=60, free_over=1500))
    assert (result.shipping.fee, result.shipping.charged) == (60, charged)
    assert result.shipping.free_reason == reason
    waived = [p.id for p in result.promotions if p.stage.value == "shipping"]
    assert waived == (["ship999"] if reason == "滿999免運" else [])
    assert result.promotion_total == (100 if promos == (THRESHOLD,) else 0)
    assert_consistent(result)


def test_no_delivery_method_means_no_shipping():
    result = quote([line("a", 100)])
    assert (result.shipping.method_code, result.shipping.charged) == (None, 0)
    assert result.total == 100


def test_parcel_over_the_carrier_limit_blocks_the_method():
    with pytest.raises(ValidationError, match="5 公斤"):
        quote([line("a", 100)], delivery=delivery(), parcel=Parcel(30, 20, 10, 6000))
    ok = quote([line("a", 100)], delivery=delivery(), parcel=Parcel(30, 20, 10, 4000))
    assert ok.shipping.charged == 60


def test_cross_border_destination_must_be_served():
    xb = delivery(code="xb", kind="xb_711_pickup", fee=300)
    assert quote([line("a", 100)], delivery=xb, destination="HK").shipping.charged == 300
    with pytest.raises(ValidationError) as err:
        quote([line("a", 100)], delivery=xb, destination="JP")
    assert err.value.field == "destination"
    with pytest.raises(ValidationError):
        quote([line("a", 100)], delivery=delivery(), destination="HK")


def test_pickup_payment_is_checked_against_the_carrier_cap():
    pay_at_pickup = PaymentMethod(code="pickup", kind="pay_at_pickup", name="取貨付款")
    store = delivery(cod_allowed=True)
    assert quote([line("a", 19940)], delivery=store, payment=pay_at_pickup).total == 20000
    with pytest.raises(ValidationError, match="20,000"):
        quote([line("a", 19941)], delivery=store, payment=pay_at_pickup)
    with pytest.raises(ValidationError):
        quote([line("a", 100)], delivery=delivery(cod_allowed=False), payment=pay_at_pickup)


# --- store credit -------------------------------------------------------------------

CREDIT_ON = {"enabled": True}


@pytest.mark.parametrize(
    ("policy", "balance", "requested", "used", "refusal"),
    [
        (CREDIT_ON, 300, None, 300, None),
        (CREDIT_ON, 300, 120, 120, None),
        (CREDIT_ON, 300, 0, 0, None),
        (CREDIT_ON, 300, 400, 300, "balance"),
        (CREDIT_ON | {"max_per_order": 200}, 300, None, 200, None),
        (CREDIT_ON | {"max_per_order": 200}, 300, 250, 200, "max_per_order"),
        # the percentage cap rounds down: 10 % of 999 is 99
        (CREDIT_ON | {"max_percent": 10}, 300, 150, 99, "max_percent"),
        # credit larger than the order: capped at the order
        (CREDIT_ON, 5000, None, 999, None),
        (CREDIT_ON, 5000, 5000, 999, "order_total"),
        (CREDIT_ON | {"min_order_amount": 1000}, 300, None, 0, "below_minimum"),
        (CREDIT_ON | {"min_order_amount": 999}, 300, None, 300, None),
        ({"enabled": False}, 300, None, 0, "disabled"),
        ({"enabled": False}, 0, None, 0, None),
        ({"enabled": False}, 0, 50, 0, "disabled"),
        (CREDIT_ON, 0, 50, 0, "balance"),
        (CREDIT_ON, 0, None, 0, None),
    ],
)
def test_store_credit_caps_and_refusals(policy, balance, requested, used, refusal):
    result = quote(
        [line("a", 999)],
        rules(store_credit=policy),
        credit_balance=balance,
        credit_requested=requested,
    )
    assert result.credit.used == used
    assert result.credit.refusal_code == refusal
    assert (result.credit.refusal is None) is (refusal is None)
    assert result.total == 999 - used
    assert_consistent(result)


def test_credit_base_includes_shipping_only_when_configured():
    policy = CREDIT_ON | {"include_shipping_in_base": True}
    result = quote(
        [line("a", 100)], rules(store_credit=policy), credit_balance=1000, delivery=delivery()
    )
    assert (result.credit.used, result.shipping.credit_share, result.total) == (160, 60, 0)
    without = quote(
        [line("a", 100)], rules(store_credit=CREDIT_ON), credit_balance=1000, delivery=delivery()
    )
    assert (without.credit.used, without.shipping.credit_share, without.total) == (100, 0, 60)
    assert_consistent(result)
    assert_consistent(without)


def test_credit_is_shared_over_lines_but_is_not_a_discount():
    result = quote(
        [line("a", 300), line("b", 100)], rules(store_credit=CREDIT_ON), credit_balance=100
    )
    assert {ln.key: (ln.final_amount, ln.credit_share, ln.paid_amount) for ln in result.lines} == {
        "a": (300, 75, 225),
        "b": (100, 25, 75),
    }
    assert result.discount_total == 0


def test_merchant_sets_the_credit_amount_only_when_allowed():
    cart = [line("a", 500)]
    with pytest.raises(ValidationError, match="購物金"):
        quote(
            cart,
            rules(store_credit=CREDIT_ON),
            credit_balance=100,
            credit_requested=50,
            by_merchant=True,
        )
    allowed = CREDIT_ON | {"merchant_may_choose": True}
    result = quote(
        cart, rules(store_credit=allowed), credit_balance=100, credit_requested=50, by_merchant=True
    )
    assert result.credit.used == 50


# --- tax and totals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "tax"), [(1000, 48), (5500, 262), (52500, 2500), (10, 0), (0, 0)]
)
def test_inclusive_tax_is_contained_in_the_total(total, tax):
    result = quote([line("a", total)] if total else [])
    assert (result.total, result.tax.amount, result.tax.mode.value) == (total, tax, "inclusive")


def test_exclusive_tax_is_added_on_merchandise_plus_shipping_minus_credit():
    result = quote(
        [line("a", 1000)],
        rules(tax={"mode": "exclusive", "show_tax_line": True}, store_credit=CREDIT_ON),
        delivery=delivery(fee=90),
        credit_balance=80,
    )
    # net = 1000 + 90 − 80 = 1010; tax = 50.5 → 51 (half up)
    assert (result.tax.amount, result.tax.shown, result.total) == (51, True, 1061)
    assert_consistent(result)


def test_zero_total_order():
    result = quote(
        [line("a", 500)],
        rules(coupons=({"code": "FREE", "name": "全免", "kind": "percent", "value": 100},)),
        coupon=CouponRequest("FREE"),
    )
    assert (result.merchandise_total, result.total, result.tax.amount) == (0, 0, 0)
    assert_consistent(result)


def test_empty_cart_prices_to_zero():
    result = quote([], delivery=delivery())
    assert (result.subtotal, result.total) == (0, 60)

"""The worked examples of commerce-tw.md §5, end to end."""

from __future__ import annotations

import json

from commerce.pricing import CouponRequest, CustomDiscount
from tests.commerce.pricing.factories import (
    assert_consistent,
    delivery,
    finals,
    line,
    quote,
    rules,
    shares,
)

THRESHOLD = {
    "type": "spend_threshold",
    "id": "s1000",
    "name": "滿千折百",
    "min_spend": 1000,
    "amount_off": 100,
}
COUPON = {"code": "AB10", "name": "A、B 九折", "kind": "percent", "value": 10, "skus": ["A", "B"]}


def worked_example(**extra):
    return quote(
        [line("A", 490, 2), line("B", 350), line("C", 120, is_custom=True)],
        rules(THRESHOLD, coupons=(COUPON,), store_credit={"enabled": True, "max_percent": 10}),
        coupon=CouponRequest("ab10"),
        custom=(CustomDiscount("熟客折", amount=30),),
        credit_balance=500,
        delivery=delivery(fee=60, free_over=1500),
        **extra,
    )


def test_worked_example_stage_by_stage():
    result = worked_example()
    assert result.subtotal == 1450
    assert shares(result, "promotion", "s1000") == {"A": 68, "B": 24, "C": 8}
    assert result.coupon.applied and result.coupon.amount == 124
    assert shares(result, "coupon") == {"A": 91, "B": 33}
    assert shares(result, "custom") == {"A": 20, "B": 7, "C": 3}
    assert finals(result) == {"A": 801, "B": 286, "C": 109}
    assert result.merchandise_total == 1196
    assert (result.shipping.fee, result.shipping.charged) == (60, 60)
    assert (result.credit.cap, result.credit.used) == (119, 119)
    assert result.total == 1137
    assert result.tax.amount == 54  # sales 1083 + tax 54
    assert_consistent(result)


def test_worked_example_line_order_does_not_matter():
    forward = worked_example()
    backward = quote(
        [line("C", 120, is_custom=True), line("B", 350), line("A", 490, 2)],
        rules(THRESHOLD, coupons=(COUPON,), store_credit={"enabled": True, "max_percent": 10}),
        coupon="AB10",
        custom=(CustomDiscount("熟客折", amount=30),),
        credit_balance=500,
        delivery=delivery(fee=60, free_over=1500),
    )
    assert finals(backward) == finals(forward)
    assert {ln.key: ln.credit_share for ln in backward.lines} == {
        ln.key: ln.credit_share for ln in forward.lines
    }
    assert backward.total == forward.total


def test_any_3_for_999():
    promo = {
        "type": "any_n_for_price",
        "id": "any3",
        "name": "任選三件 999",
        "tiers": [{"quantity": 3, "price": 999}],
    }
    result = quote([line("a", 450), line("b", 400), line("c", 350), line("d", 300)], rules(promo))
    assert shares(result, "promotion") == {"a": 75, "b": 67, "c": 59}
    assert result.promotion_total == 201
    assert result.total == 1299
    assert_consistent(result)


def test_to_dict_is_plain_json():
    data = worked_example().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["total"] == 1137
    assert data["discount_total"] == 254
    assert data["lines"][0]["adjustments"][0] == {
        "source": "promotion",
        "ref": "s1000",
        "name": "滿千折百",
        "amount": 68,
    }
    assert data["tax"]["mode"] == "inclusive"

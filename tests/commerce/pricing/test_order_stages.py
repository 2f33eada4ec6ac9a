"""Stages 3-5: spend thresholds, the coupon, and the merchant's custom discounts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce.errors import LimitExceeded, ValidationError
from commerce.pricing import CouponRequest, CouponUsage, CustomDiscount, coupon_options
from tests.commerce.pricing.factories import (
    NOW,
    assert_consistent,
    finals,
    line,
    quote,
    rules,
    shares,
)


def threshold(min_spend, pid="spend", **extra):
    extra.setdefault("amount_off", None if "percent_off" in extra else 100)
    return {
        "type": "spend_threshold",
        "id": pid,
        "name": f"滿{min_spend}",
        "min_spend": min_spend,
        **extra,
    }


def coupon(code="SAVE", kind="fixed", value=100, **extra):
    return {"code": code, "name": f"券{code}", "kind": kind, "value": value, **extra}


@pytest.mark.parametrize(
    ("promos", "cart", "saving"),
    [
        ([threshold(1000)], [line("a", 999)], 0),
        ([threshold(1000)], [line("a", 1000)], 100),
        ([threshold(1000, percent_off=10)], [line("a", 1235)], 124),
        ([threshold(1000, repeat=True)], [line("a", 2999)], 200),
        ([threshold(1000, repeat=True, per_order_limit=2)], [line("a", 5000)], 200),
        # best single threshold, not the sum
        (
            [threshold(1000, pid="s1"), threshold(2000, pid="s2", amount_off=300)],
            [line("a", 2500)],
            300,
        ),
        # "no order discounts" lines neither count towards nor receive the discount
        ([threshold(1000)], [line("a", 600), line("b", 600, no_order_discounts=True)], 0),
        # categories narrow both the threshold and where the discount goes
        (
            [threshold(1000, categories=["shoes"])],
            [line("a", 900, categories=("shoes",)), line("b", 900)],
            0,
        ),
    ],
)
def test_spend_thresholds(promos, cart, saving):
    result = quote(cart, rules(*promos))
    assert result.promotion_total == saving
    assert_consistent(result)


def test_threshold_is_measured_after_item_promotions():
    any2 = {
        "type": "any_n_for_price",
        "id": "any2",
        "name": "任選2件",
        "priority": 1,
        "tiers": [{"quantity": 2, "price": 900}],
    }
    result = quote([line("a", 500, 2)], rules(any2, threshold(1000)))
    assert result.promotion_total == 100  # 1000 → 900 after 任選, under the threshold


def test_gift_lines_stay_outside_thresholds():
    result = quote([line("a", 900), line("g", 500, is_gift=True)], rules(threshold(1000)))
    assert result.promotion_total == 0
    assert result.total == 900


def test_stacked_thresholds_all_apply():
    promos = (threshold(1000, pid="s1"), threshold(2000, pid="s2", amount_off=300))
    result = quote([line("a", 2500)], rules(*promos, stack_order_promotions=True))
    assert [p.id for p in result.promotions] == ["s1", "s2"]
    assert result.promotion_total == 400


def test_no_order_discounts_line_skips_order_discounts_but_not_item_promotions():
    any2 = {
        "type": "any_n_for_price",
        "id": "any2",
        "name": "任選2件",
        "skus": ["a"],
        "tiers": [{"quantity": 2, "price": 900}],
    }
    cart = [line("a", 500, 2, no_order_discounts=True), line("b", 1000)]
    result = quote(
        cart,
        rules(any2, threshold(1000), coupons=(coupon(kind="percent", value=10),)),
        coupon="SAVE",
        custom=(CustomDiscount("折", amount=50),),
    )
    assert shares(result, "promotion", "any2") == {"a": 100}
    assert shares(result, "promotion", "spend") == {"b": 100}
    assert shares(result, "coupon") == {"b": 90}
    assert shares(result, "custom") == {"b": 50}


# --- coupons -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "request_", "reason_code"),
    [
        (coupon(), CouponRequest("NOPE"), "unknown"),
        (coupon(starts_at=NOW + timedelta(minutes=1)), CouponRequest("SAVE"), "not_started"),
        (coupon(ends_at=NOW), CouponRequest("SAVE"), "expired"),
        (coupon(total_limit=10), CouponRequest("SAVE", total_used=10), "limit_reached"),
        (
            coupon(per_customer_limit=1),
            CouponRequest("SAVE", used_by_customer=1),
            "customer_limit_reached",
        ),
        (coupon(skus=["zzz"]), CouponRequest("SAVE"), "no_eligible_item"),
        (coupon(min_spend=1001), CouponRequest("SAVE"), "minimum_not_met"),
        # the checks run in order: an expired, used-up coupon reads "expired"
        (coupon(ends_at=NOW, total_limit=1), CouponRequest("SAVE", total_used=5), "expired"),
    ],
)
def test_coupon_refusals(definition, request_, reason_code):
    result = quote([line("a", 1000)], rules(coupons=(definition,)), coupon=request_)
    assert not result.coupon.applied
    assert result.coupon.reason_code == reason_code
    assert result.coupon.reason
    assert result.coupon.code == request_.code
    assert result.coupon_total == 0
    assert result.total == 1000


def test_minimum_message_says_how_much_is_missing():
    result = quote([line("a", 1000)], rules(coupons=(coupon(min_spend=1200),)), coupon="SAVE")
    assert "NT$1,200" in result.coupon.reason and "NT$200" in result.coupon.reason


@pytest.mark.parametrize(
    ("definition", "cart", "saving"),
    [
        (coupon(kind="percent", value=10), [line("a", 1235)], 124),
        (coupon(kind="fixed", value=100), [line("a", 1000)], 100),
        (coupon(kind="fixed", value=500, skus=["a"]), [line("a", 300), line("b", 900)], 300),
        (coupon(kind="percent", value=100), [line("a", 777)], 777),
        (coupon(total_limit=10, per_customer_limit=2), [line("a", 1000)], 100),
    ],
)
def test_coupon_savings(definition, cart, saving):
    usage = CouponRequest(" save ", total_used=9, used_by_customer=1)
    result = quote(cart, rules(coupons=(definition,)), coupon=usage)
    assert result.coupon.applied
    assert result.coupon_total == saving
    assert_consistent(result)


def test_coupon_minimum_is_compared_after_the_order_promotion():
    result = quote(
        [line("a", 1050)], rules(threshold(1000), coupons=(coupon(min_spend=1000),)), coupon="SAVE"
    )
    assert result.coupon.reason_code == "minimum_not_met"  # 1050 − 100 = 950


def test_coupon_combines_with_the_order_promotion():
    result = quote(
        [line("a", 2000)],
        rules(threshold(1000), coupons=(coupon(kind="percent", value=10),)),
        coupon="SAVE",
    )
    assert (result.promotion_total, result.coupon_total) == (100, 190)
    assert result.total == 1710


def test_exclusive_coupon_replaces_the_promotion_when_it_saves_more():
    result = quote(
        [line("a", 2000)],
        rules(threshold(1000), coupons=(coupon(kind="percent", value=10, exclusive=True),)),
        coupon="SAVE",
    )
    assert result.promotions == ()
    assert result.coupon.applied and result.coupon_total == 200
    assert result.total == 1800
    assert_consistent(result)


@pytest.mark.parametrize("value", [50, 100], ids=["saves less", "saves the same"])
def test_exclusive_coupon_is_refused_when_it_saves_no_more(value):
    result = quote(
        [line("a", 2000)],
        rules(threshold(1000), coupons=(coupon(value=value, exclusive=True),)),
        coupon="SAVE",
    )
    assert result.promotion_total == 100
    assert result.coupon.reason_code == "not_combinable"
    assert "滿1000" in result.coupon.reason
    assert result.total == 1900


def test_exclusive_coupon_applies_normally_without_an_order_promotion():
    result = quote([line("a", 2000)], rules(coupons=(coupon(exclusive=True),)), coupon="SAVE")
    assert result.coupon.applied and result.total == 1900


def test_coupon_options_list_each_coupon_with_its_reason():
    definitions = (
        coupon("OK10", kind="percent", value=10),
        coupon("GONE", ends_at=NOW),
        coupon("USED", per_customer_limit=1),
        coupon("BIG", min_spend=5000),
        coupon("SHOES", categories=["shoes"]),
    )
    usage = {"USED": CouponUsage(total_used=3, used_by_customer=1)}
    rule_set = rules(threshold(1000), coupons=definitions)
    options = coupon_options(rule_set.coupons, [line("a", 1000)], usage, NOW, rule_set)
    got = {o.coupon.code: (o.usable, o.reason_code, o.saving) for o in options}
    assert got == {
        "OK10": (True, None, 90),
        "GONE": (False, "expired", 0),
        "USED": (False, "customer_limit_reached", 0),
        "BIG": (False, "minimum_not_met", 0),
        "SHOES": (False, "no_eligible_item", 0),
    }


# --- custom discounts ---------------------------------------------------------------


def test_custom_discounts_apply_in_order_on_the_running_subtotal():
    result = quote(
        [line("a", 600), line("b", 400)],
        custom=(CustomDiscount("先折100", amount=100), CustomDiscount("再打九折", percent=10)),
    )
    assert [(c.ref, c.amount) for c in result.custom_discounts] == [
        ("custom-1", 100),
        ("custom-2", 90),
    ]
    assert finals(result) == {"a": 486, "b": 324}
    assert_consistent(result)


def test_custom_discount_cannot_push_below_zero():
    result = quote([line("a", 100)], custom=(CustomDiscount("全免", amount=500),))
    assert result.custom_discount_total == 100
    assert result.total == 0


def test_five_custom_discounts_are_fine_and_a_sixth_is_refused():
    five = tuple(CustomDiscount(f"折{i}", amount=1) for i in range(5))
    assert quote([line("a", 100)], custom=five).total == 95
    with pytest.raises(LimitExceeded) as err:
        quote([line("a", 100)], custom=(*five, CustomDiscount("第六個", amount=1)))
    assert err.value.field == "custom_discounts"


def test_only_a_merchant_may_add_custom_discounts():
    with pytest.raises(ValidationError, match="店家"):
        quote([line("a", 100)], custom=(CustomDiscount("自己折", amount=10),), by_merchant=False)


@pytest.mark.parametrize(
    "fields",
    [{"amount": 10, "percent": 10}, {}, {"amount": 0}, {"percent": 101}, {"name": " "}],
)
def test_bad_custom_discount_is_refused(fields):
    with pytest.raises(ValidationError):
        CustomDiscount(**{"name": "折", "amount": None, "percent": None} | fields)

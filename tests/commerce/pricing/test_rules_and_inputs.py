"""Config models refuse mistakes; inputs refuse what cannot be priced."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pydantic
import pytest

from commerce.errors import LimitExceeded, ValidationError
from commerce.pricing import (
    AnyNForPrice,
    BuyXGetY,
    Combo,
    CouponDefinition,
    FreeShippingOver,
    PricingRequest,
    PricingRules,
    SpendThreshold,
    price,
)
from tests.commerce.pricing.factories import NOW, line, quote

BASE = {"id": "p1", "name": "促銷"}


@pytest.mark.parametrize(
    ("config", "model"),
    [
        ({"type": "any_n_for_price", "tiers": [{"quantity": 3, "price": 999}]}, AnyNForPrice),
        ({"type": "combo", "a_skus": ["a"], "b_categories": ["drink"], "set_price": 99}, Combo),
        ({"type": "buy_x_get_y", "buy_quantity": 2, "get_quantity": 1}, BuyXGetY),
        ({"type": "spend_threshold", "min_spend": 1000, "percent_off": 5}, SpendThreshold),
        ({"type": "free_shipping_over", "min_spend": 999}, FreeShippingOver),
    ],
)
def test_promotion_types_are_chosen_by_type(config, model):
    rules = PricingRules(promotions=[{**BASE, **config}])
    assert isinstance(rules.promotions[0], model)


@pytest.mark.parametrize(
    "config",
    [
        {"type": "lucky_draw"},
        {"type": "any_n_for_price", "tiers": []},
        {"type": "any_n_for_price", "tiers": [{"quantity": 2, "price": 1}] * 2},
        {"type": "any_n_for_price", "tiers": [{"quantity": 2, "price": 1}], "colour": "red"},
        {"type": "combo", "a_skus": ["a"], "set_price": 99},
        {"type": "combo", "a_skus": ["a"], "b_skus": ["b"], "skus": ["c"], "set_price": 99},
        {"type": "buy_x_get_y", "buy_quantity": 1, "get_quantity": 1, "percent_off": 0},
        {"type": "spend_threshold", "min_spend": 1000},
        {"type": "spend_threshold", "min_spend": 1000, "amount_off": 1, "percent_off": 1},
        {"type": "spend_threshold", "min_spend": 1000, "percent_off": 5, "repeat": True},
        {"type": "free_shipping_over", "min_spend": 1, "starts_at": "2026-01-01T00:00:00"},
        {
            "type": "free_shipping_over",
            "min_spend": 1,
            "starts_at": "2026-02-01T00:00:00Z",
            "ends_at": "2026-01-01T00:00:00Z",
        },
        {"type": "free_shipping_over", "min_spend": 1, "id": "Bad Id"},
    ],
)
def test_bad_promotion_config_is_refused(config):
    with pytest.raises(pydantic.ValidationError):
        PricingRules(promotions=[{**BASE, **config}])


def test_windows_are_kept_in_utc():
    rules = PricingRules(
        promotions=[
            {
                **BASE,
                "type": "free_shipping_over",
                "min_spend": 1,
                "starts_at": "2026-03-01T08:00:00+08:00",
            }
        ]
    )
    start = rules.promotions[0].starts_at
    assert start == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert start.utcoffset() == timedelta(0)


def test_coupon_codes_are_normalised_and_checked():
    coupon = CouponDefinition(code=" ｓａｖｅ-10 ", name="券", kind="fixed", value=10)
    assert coupon.code == "SAVE-10"
    rules = PricingRules(coupons=[coupon])
    assert rules.coupon("save-10") is coupon
    for bad in (
        {"code": "a b"},
        {"code": "ab"},
        {"kind": "percent", "value": 101},
        {"value": 0},
        {"colour": "red"},
    ):
        with pytest.raises(pydantic.ValidationError):
            CouponDefinition(**({"code": "SAVE", "name": "券", "kind": "fixed", "value": 10} | bad))


def test_duplicate_ids_and_codes_are_refused():
    promo = {**BASE, "type": "free_shipping_over", "min_spend": 1}
    with pytest.raises(pydantic.ValidationError, match="p1"):
        PricingRules(promotions=[promo, promo])
    coupon = {"code": "SAVE", "name": "券", "kind": "fixed", "value": 10}
    with pytest.raises(pydantic.ValidationError, match="SAVE"):
        PricingRules(coupons=[coupon, coupon | {"code": "save"}])


@pytest.mark.parametrize(
    "config",
    [{"max_percent": 101}, {"min_order_amount": -1}, {"enabled": True, "typo": 1}],
)
def test_bad_credit_policy_is_refused(config):
    with pytest.raises(pydantic.ValidationError):
        PricingRules(store_credit=config)


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"quantity": 0}, "quantity"), ({"unit_price": -1}, "unit_price"), ({"sku": ""}, "sku")],
)
def test_bad_cart_line_is_refused(fields, field):
    with pytest.raises(ValidationError) as err:
        line(**({"sku": "a", "unit_price": 100} | fields))
    assert err.value.field == field


def test_lines_of_one_sku_are_merged_and_conflicts_refused():
    result = quote([line("a", 100, 2), line("b", 50), line("a", 100, 3)])
    assert [(ln.key, ln.quantity) for ln in result.lines] == [("a", 5), ("b", 1)]
    with pytest.raises(ValidationError, match="a"):
        quote([line("a", 100), line("a", 90)])


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"tags": tuple(f"t{i}" for i in range(11))}, LimitExceeded),
        ({"note": "字" * 201}, LimitExceeded),
        ({"credit_balance": -1}, ValidationError),
        ({"credit_requested": -1}, ValidationError),
    ],
)
def test_request_limits(extra, error):
    with pytest.raises(error):
        quote([line("a", 100)], **extra)
    within = {"tags": tuple(f"t{i}" for i in range(10)), "note": "字" * 200}
    assert quote([line("a", 100)], **within).total == 100


def test_now_must_be_timezone_aware():
    with pytest.raises(ValueError):
        price(PricingRequest(lines=()), PricingRules(), NOW.replace(tzinfo=None))

"""The pricing sections of config.yaml: promotions, coupons, store credit, tax."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from commerce.pricing import CouponKind, SpendThreshold, TaxMode
from web.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]
SHIPPED = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def parsed(mutate) -> str:
    """The one-line error ``mutate`` causes in the shipped config."""
    config = copy.deepcopy(SHIPPED)
    mutate(config)
    with pytest.raises(ConfigError) as caught:
        parse_config(config, "config.yaml")
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    return message


def test_shipped_config_carries_demo_pricing_rules():
    rules = load_config(REPO / "config.yaml").pricing_rules()
    assert {p.id for p in rules.promotions} >= {"tea-any-3", "spend-3000"}
    welcome = rules.coupon("welcome100")
    assert welcome is not None and welcome.kind is CouponKind.FIXED
    assert welcome.per_customer_limit == 1
    assert rules.store_credit.enabled and rules.tax.mode is TaxMode.INCLUSIVE
    spend = next(p for p in rules.promotions if isinstance(p, SpendThreshold))
    assert (spend.min_spend, spend.amount_off) == (3000, 300)


def test_pricing_sections_are_optional():
    config = copy.deepcopy(SHIPPED)
    for key in ("promotions", "coupons", "store_credit", "tax", "stack_order_promotions"):
        config.pop(key)
    rules = parse_config(config).pricing_rules()
    assert rules.promotions == () and rules.coupons == ()
    assert not rules.store_credit.enabled


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c["promotions"][0].update(colour="red"), "promotions.0.any_n_for_price.colour"),
    (lambda c: c["promotions"][2].update(amount="1"), "promotions.2.spend_threshold.amount"),
    (lambda c: c["coupons"][0].update(colour="red"), "coupons.0.colour"),
    (lambda c: c["store_credit"].update(max_credit=5), "store_credit.max_credit"),
    (lambda c: c["tax"].update(vat=True), "tax.vat"),
])
def test_unknown_keys_in_pricing_sections_are_named(mutate, key):
    assert f"config.yaml: {key}: unknown key" in parsed(mutate)


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["coupons"][0].update(value=0), "coupons.0.value"),
    (lambda c: c["coupons"][1].update(value=120), "coupons.1"),
    (lambda c: c["coupons"][0].update(code="a b"), "coupons.0.code"),
    (lambda c: c["store_credit"].update(max_percent=150), "store_credit.max_percent"),
    (lambda c: c["tax"].update(mode="vat"), "tax.mode"),
    (lambda c: c["promotions"][0].update(type="mystery"), "promotions.0"),
    (lambda c: c["promotions"][0].update(ends_at="2026-01-01T00:00:00"), "time zone"),
    (lambda c: c["coupons"].append(dict(c["coupons"][0], code="welcome100")),
     "duplicate coupon code(s): WELCOME100"),
    (lambda c: c["promotions"].append({"id": "free-ufo", "type": "free_shipping_over",
                                       "name": "免運", "min_spend": 0,
                                       "delivery_codes": ["ufo"]}),
     "'free-ufo' names unknown delivery code(s) ufo"),
])
def test_bad_pricing_values_are_refused_with_the_key(mutate, expected):
    assert expected in parsed(mutate)

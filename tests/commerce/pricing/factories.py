"""Small builders so each pricing test states only what it is about."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from commerce.delivery import DeliveryMethod
from commerce.pricing import (
    Breakdown,
    CartLine,
    CouponRequest,
    CustomDiscount,
    PricingRequest,
    PricingRules,
    price,
)

NOW = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)


def line(sku: str, unit_price: int, quantity: int = 1, **extra: Any) -> CartLine:
    return CartLine(sku=sku, name=f"商品{sku}", unit_price=unit_price, quantity=quantity, **extra)


def rules(*promotions: dict, coupons: tuple[dict, ...] = (), **extra: Any) -> PricingRules:
    return PricingRules(promotions=promotions, coupons=coupons, **extra)


def delivery(fee: int = 60, free_over: int | None = None, **extra: Any) -> DeliveryMethod:
    fields = {"code": "711", "kind": "cvs_711_c2c", "name": "7-11 取貨", "fee": fee}
    return DeliveryMethod(**{**fields, "free_over": free_over, **extra})


def quote(
    lines: list[CartLine],
    rule_set: PricingRules | None = None,
    *,
    now: datetime = NOW,
    coupon: str | CouponRequest | None = None,
    custom: tuple[CustomDiscount, ...] = (),
    **extra: Any,
) -> Breakdown:
    if isinstance(coupon, str):
        coupon = CouponRequest(coupon)
    request = PricingRequest(
        lines=tuple(lines),
        coupon=coupon,
        custom_discounts=custom,
        by_merchant=extra.pop("by_merchant", bool(custom)),
        **extra,
    )
    return price(request, rule_set or PricingRules(), now)


def finals(result: Breakdown) -> dict[str, int]:
    return {ln.key: ln.final_amount for ln in result.lines}


def shares(result: Breakdown, source: str, ref: str | None = None) -> dict[str, int]:
    """Each line's amount from one adjustment source (and ref), zero lines left out."""
    found = {}
    for ln in result.lines:
        amount = sum(
            a.amount for a in ln.adjustments if a.source == source and ref in (None, a.ref)
        )
        if amount:
            found[ln.key] = amount
    return found


def assert_consistent(result: Breakdown) -> None:
    """The invariants every breakdown keeps, whatever the rules."""
    lines_total = sum(ln.final_amount for ln in result.lines)
    assert lines_total == result.merchandise_total
    net = lines_total + result.shipping.charged - result.credit.used
    added = result.tax.amount if result.tax.mode.value == "exclusive" else 0
    assert result.total == net + added
    assert result.total >= 0
    assert (
        sum(ln.paid_amount for ln in result.lines)
        + (result.shipping.charged - result.shipping.credit_share)
        == net
    )
    for ln in result.lines:
        discounts = sum(a.amount for a in ln.adjustments if a.source != "credit")
        assert ln.final_amount == ln.list_amount - discounts >= 0
        assert 0 <= ln.paid_amount <= ln.final_amount
    assert result.subtotal - result.discount_total == result.merchandise_total

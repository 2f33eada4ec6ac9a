"""Stage 4: one coupon per order, and the list of coupons a buyer could use.

Checks run in a fixed order (window, total uses, the buyer's uses, eligible products,
minimum spend) and the first failure is the message the buyer sees, so "expired" is
never hidden behind "minimum not met". Usage counts come from the caller: reserving a
use happens when the order is placed, under a lock the engine knows nothing about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from commerce.money import round_half_up
from commerce.pricing.allocation import WorkingLine, order_discountable, spread, targets
from commerce.pricing.breakdown import AdjustmentSource
from commerce.pricing.cart import CartLine, merge_lines
from commerce.pricing.item_promotions import apply_item_promotions
from commerce.pricing.order_promotions import apply_order_promotions
from commerce.pricing.rules import CouponDefinition, CouponKind, PricingRules


@dataclass(frozen=True)
class CouponUsage:
    total_used: int = 0
    used_by_customer: int = 0


@dataclass(frozen=True)
class CouponCheck:
    usable: bool
    saving: int = 0
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CouponOption:
    coupon: CouponDefinition
    usable: bool
    reason_code: str | None
    reason: str | None
    saving: int


def _refuse(code: str, reason: str) -> CouponCheck:
    return CouponCheck(False, 0, code, reason)


def coupon_lines(coupon: CouponDefinition, lines: Sequence[WorkingLine]) -> list[WorkingLine]:
    return [w for w in order_discountable(lines) if targets(w.line, coupon.skus, coupon.categories)]


def check_coupon(
    coupon: CouponDefinition, usage: CouponUsage, lines: Sequence[WorkingLine], now: datetime
) -> CouponCheck:
    """Whether ``coupon`` applies to lines priced through stage 3, and its saving."""
    code = coupon.code
    if coupon.not_started(now):
        return _refuse("not_started", f"優惠碼 {code} 尚未開始")
    if coupon.ended(now):
        return _refuse("expired", f"優惠碼 {code} 已過期")
    if coupon.total_limit is not None and usage.total_used >= coupon.total_limit:
        return _refuse("limit_reached", f"優惠碼 {code} 已被用完")
    if (
        coupon.per_customer_limit is not None
        and usage.used_by_customer >= coupon.per_customer_limit
    ):
        return _refuse(
            "customer_limit_reached", f"優惠碼 {code} 每人限用 {coupon.per_customer_limit} 次"
        )
    eligible = coupon_lines(coupon, lines)
    if not eligible:
        return _refuse("no_eligible_item", f"購物車中沒有適用優惠碼 {code} 的商品")
    merchandise = sum(w.amount for w in lines if not w.line.is_gift)
    if merchandise < coupon.min_spend:
        short = coupon.min_spend - merchandise
        return _refuse(
            "minimum_not_met",
            f"優惠碼 {code} 需消費滿 NT${coupon.min_spend:,}（還差 NT${short:,}）",
        )
    base = sum(w.amount for w in eligible)
    if coupon.kind is CouponKind.PERCENT:
        saving = round_half_up(base * coupon.value, 100)
    else:
        saving = min(coupon.value, base)
    return CouponCheck(True, saving)


def apply_coupon(coupon: CouponDefinition, lines: list[WorkingLine], saving: int) -> int:
    return spread(
        coupon_lines(coupon, lines), saving, AdjustmentSource.COUPON, coupon.code, coupon.name
    )


def priced_to_stage3(
    cart: Sequence[CartLine], rules: PricingRules, now: datetime
) -> list[WorkingLine]:
    lines = [WorkingLine.start(line) for line in merge_lines(tuple(cart))]
    apply_item_promotions(rules.item_promotions(now), lines)
    apply_order_promotions(rules.spend_thresholds(now), lines, stack=rules.stack_order_promotions)
    return lines


def coupon_options(
    definitions: Sequence[CouponDefinition],
    cart: Sequence[CartLine],
    usage: Mapping[str, CouponUsage],
    now: datetime,
    rules: PricingRules | None = None,
) -> list[CouponOption]:
    """Every coupon with whether this cart may use it now, and why not.

    With ``rules``, the minimum spend is compared with the cart after promotions, as
    at checkout; without, with the catalogue prices. An exclusive coupon is shown as
    usable even when the automatic promotion would win: checkout explains that.
    """
    lines = priced_to_stage3(cart, rules or PricingRules(), now)
    options = []
    for coupon in definitions:
        check = check_coupon(coupon, usage.get(coupon.code, CouponUsage()), lines, now)
        options.append(
            CouponOption(coupon, check.usable, check.reason_code, check.reason, check.saving)
        )
    return options

"""``price(request, rules, now)``: the deterministic pricing pipeline (commerce-tw.md §5).

Order of application, each stage on integers and never below zero:

0. validate: ≤ 10 tags, note ≤ 200, ≤ 5 custom discounts (merchant only), quantity ≥ 1;
   lines of one SKU are merged; gifts cost 0 and take part in nothing below.
1. line price: the catalogue's best sale price, given as ``CartLine.unit_price``.
2. item promotions (任選, buy X get Y, A+B set): each unit serves one promotion; the
   assignment with the largest total saving wins, ties by (priority, id).
3. order promotion: spend thresholds on the stage-2 subtotal (minus "no order
   discounts" lines); the best one, or all when the store stacks them.
4. coupon, one per order: window → total uses → buyer's uses → eligible products →
   minimum spend on all merchandise after stage 3. Percent = half-up once on the
   eligible amount; fixed = min(value, eligible). It combines with stage 3 unless
   exclusive; an exclusive coupon replaces stage 3 only when it saves strictly more.
5. custom discounts in the merchant's order, fixed or % of the running subtotal.
6. shipping: the method's fee, waived from its threshold or by a free-shipping
   promotion, both judged on stage-5 merchandise; destination and parcel checked.
7. store credit, capped by balance, per-order max, ⌊base × % / 100⌋ and the base.
8. total = merchandise + shipping − credit; tax contained (inclusive) or added.

Rounding: a percentage is rounded half up (``money.round_half_up``) once per discount,
never per line; the credit percentage cap rounds down. Every order-level amount is then
spread over its lines by largest remainder (ties: larger amount, then SKU), so lines
always add up and line order never matters.

Worked example: A 490×2, B 350, custom C 120 (1450). "Spend 1000, get 100 off" →
[68, 24, 8] → 912/326/112. 10 % coupon on A+B: 1238 → 124 as [91, 33]. Custom −30 →
[20, 7, 3] → 801/286/109 = 1196. Shipping 60 (free from 1500). Credit 10 % cap → 119.
Total 1137 = sales 1083 + tax 54.
"""

from __future__ import annotations

from datetime import datetime

from commerce.delivery import check_cod
from commerce.errors import ValidationError
from commerce.money import round_half_up
from commerce.payment import compatible
from commerce.pricing.allocation import WorkingLine, order_discountable, spread
from commerce.pricing.breakdown import (
    Adjustment,
    AdjustmentSource,
    AppliedCustomDiscount,
    AppliedPromotion,
    Breakdown,
    CouponResult,
    LineBreakdown,
    PromotionStage,
    ShippingResult,
)
from commerce.pricing.cart import CustomDiscount, PricingRequest, merge_lines, validate_request
from commerce.pricing.coupons import CouponCheck, CouponUsage, apply_coupon, check_coupon
from commerce.pricing.credit import SHIPPING_KEY, apply_credit
from commerce.pricing.item_promotions import apply_item_promotions
from commerce.pricing.order_promotions import apply_order_promotions
from commerce.pricing.rules import PricingRules, normalize_coupon_code
from commerce.pricing.shipping import apply_shipping
from commerce.pricing.tax import apply_tax


def price(request: PricingRequest, rules: PricingRules, now: datetime) -> Breakdown:
    """Price a draft order. Pure: same request, rules and time, same breakdown."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    validate_request(request)
    lines = [WorkingLine.start(line) for line in merge_lines(request.lines)]
    subtotal = sum(w.amount for w in lines)
    promotions = apply_item_promotions(rules.item_promotions(now), lines)
    order_promotions, coupon = _order_discounts(request, rules, lines, now)
    promotions += order_promotions
    customs = [_custom(d, i, lines) for i, d in enumerate(request.custom_discounts, start=1)]
    shipping, waived = apply_shipping(
        request.delivery,
        rules.free_shipping(now),
        lines,
        destination=request.destination,
        parcel=request.parcel,
    )
    if waived is not None:
        promotions.append(waived)
    credit = apply_credit(
        rules.store_credit,
        request.credit_balance,
        request.credit_requested,
        by_merchant=request.by_merchant,
        lines=lines,
        shipping=shipping.charged,
    )
    shipping_share = credit.shares.get(SHIPPING_KEY, 0)
    shipping = ShippingResult(
        shipping.method_code, shipping.fee, shipping.charged, shipping.free_reason, shipping_share
    )
    merchandise = sum(w.amount for w in lines)
    tax, total = apply_tax(rules.tax, merchandise + shipping.charged - credit.result.used)
    _check_payment(request, total)
    return Breakdown(
        lines=tuple(_line_result(w, credit.shares.get(w.key, 0)) for w in lines),
        subtotal=subtotal,
        promotions=tuple(promotions),
        promotion_total=sum(p.amount for p in promotions if p.stage != PromotionStage.SHIPPING),
        coupon=coupon,
        coupon_total=coupon.amount if coupon is not None else 0,
        custom_discounts=tuple(customs),
        custom_discount_total=sum(c.amount for c in customs),
        merchandise_total=merchandise,
        shipping=shipping,
        credit=credit.result,
        tax=tax,
        total=total,
    )


def _order_discounts(
    request: PricingRequest, rules: PricingRules, lines: list[WorkingLine], now: datetime
) -> tuple[list[AppliedPromotion], CouponResult | None]:
    """Stages 3 and 4 together, because an exclusive coupon may undo stage 3."""
    before_stage3 = [w.copy() for w in lines]
    thresholds = rules.spend_thresholds(now)
    applied = apply_order_promotions(thresholds, lines, stack=rules.stack_order_promotions)
    if request.coupon is None:
        return applied, None
    definition = rules.coupon(request.coupon.code)
    if definition is None:
        code = normalize_coupon_code(request.coupon.code)
        return applied, CouponResult(code, "", False, 0, "unknown", f"找不到優惠碼 {code}")
    usage = CouponUsage(request.coupon.total_used, request.coupon.used_by_customer)
    check = check_coupon(definition, usage, lines, now)
    if definition.exclusive and applied:
        alone = check_coupon(definition, usage, before_stage3, now)
        promotion_saving = sum(p.amount for p in applied)
        if alone.usable and alone.saving > promotion_saving:
            lines[:] = before_stage3
            applied, check = [], alone
        elif alone.usable:
            names = "、".join(p.name for p in applied)
            reason = f"優惠碼 {definition.code} 不能與「{names}」併用，已保留較優惠的「{names}」"
            check = CouponCheck(False, 0, "not_combinable", reason)
    if not check.usable:
        return applied, CouponResult(
            definition.code, definition.name, False, 0, check.reason_code, check.reason
        )
    taken = apply_coupon(definition, lines, check.saving)
    return applied, CouponResult(definition.code, definition.name, True, taken)


def _custom(
    discount: CustomDiscount, position: int, lines: list[WorkingLine]
) -> AppliedCustomDiscount:
    open_lines = order_discountable(lines)
    running = sum(w.amount for w in open_lines)
    if discount.percent is not None:
        amount = round_half_up(running * discount.percent, 100)
    else:
        amount = discount.amount or 0
    ref = f"custom-{position}"
    taken = spread(open_lines, amount, AdjustmentSource.CUSTOM, ref, discount.name)
    return AppliedCustomDiscount(ref, discount.name, discount.percent, taken)


def _check_payment(request: PricingRequest, total: int) -> None:
    payment, delivery = request.payment, request.delivery
    if payment is None or delivery is None:
        return
    if not compatible(payment, delivery):
        raise ValidationError(f"{delivery.name} 不能使用 {payment.name}", field="payment")
    if payment.skips_payment:
        check_cod(delivery, total)


def _line_result(line: WorkingLine, credit_share: int) -> LineBreakdown:
    source = line.line
    unit_price = 0 if source.is_gift else source.unit_price
    adjustments = list(line.adjustments)
    if credit_share:
        adjustments.append(Adjustment(AdjustmentSource.CREDIT, "credit", "購物金", credit_share))
    return LineBreakdown(
        key=line.key,
        sku=source.sku,
        name=source.name,
        variant=source.variant,
        product_id=source.product_id,
        quantity=source.quantity,
        unit_price=unit_price,
        list_amount=unit_price * source.quantity,
        adjustments=tuple(adjustments),
        final_amount=line.amount,
        credit_share=credit_share,
        paid_amount=line.amount - credit_share,
        is_gift=source.is_gift,
        is_custom=source.is_custom,
    )

"""Stage 6: the shipping fee, free-shipping reasons, and carrier limits.

Free shipping is judged on merchandise after every discount (stage 5), so a coupon
can take an order back under the threshold; that is the rule buyers see on shop
fronts ("滿 1,500 免運" means paying 1,500 for goods).
"""

from __future__ import annotations

from collections.abc import Sequence

from commerce.delivery import DeliveryMethod, check_destination, check_parcel
from commerce.pricing.allocation import WorkingLine, targets
from commerce.pricing.breakdown import AppliedPromotion, PromotionStage, ShippingResult
from commerce.pricing.cart import Parcel
from commerce.pricing.rules import FreeShippingOver


def apply_shipping(
    method: DeliveryMethod | None,
    promotions: Sequence[FreeShippingOver],
    lines: Sequence[WorkingLine],
    *,
    destination: str | None,
    parcel: Parcel | None,
) -> tuple[ShippingResult, AppliedPromotion | None]:
    """The fee charged, and the free-shipping promotion that waived it, if any."""
    if method is None:
        return ShippingResult(None, 0, 0, None, 0), None
    check_destination(method, destination)
    if parcel is not None:
        check_parcel(method, parcel.length_cm, parcel.width_cm, parcel.height_cm, parcel.weight_g)
    merchandise = sum(w.amount for w in lines if not w.line.is_gift)
    if method.fee == 0:
        return ShippingResult(method.code, 0, 0, None, 0), None
    if method.free_over is not None and merchandise >= method.free_over:
        reason = f"滿 NT${method.free_over:,} 免運"
        return ShippingResult(method.code, method.fee, 0, reason, 0), None
    for promo in sorted(promotions, key=lambda p: (p.priority, p.id)):
        if promo.delivery_codes is not None and method.code not in promo.delivery_codes:
            continue
        covered = sum(w.amount for w in lines if targets(w.line, promo.skus, promo.categories))
        if covered >= promo.min_spend:
            waived = AppliedPromotion(promo.id, promo.name, PromotionStage.SHIPPING, method.fee)
            return ShippingResult(method.code, method.fee, 0, promo.name, 0), waived
    return ShippingResult(method.code, method.fee, method.fee, None, 0), None

"""Stage 3: automatic order promotions (spend thresholds, 滿額折).

The threshold is measured on the merchandise after item promotions, leaving out gifts
and lines flagged "no order discounts", and only over the products the promotion
names. Only the best qualifying threshold applies unless the store stacks them.
"""

from __future__ import annotations

from collections.abc import Sequence

from commerce.money import round_half_up
from commerce.pricing.allocation import WorkingLine, order_discountable, spread, targets
from commerce.pricing.breakdown import AdjustmentSource, AppliedPromotion, PromotionStage
from commerce.pricing.rules import SpendThreshold


def threshold_discount(promo: SpendThreshold, base: int) -> int:
    """What ``promo`` takes off an eligible subtotal of ``base``; 0 below the threshold."""
    if base < promo.min_spend:
        return 0
    if promo.percent_off is not None:
        return round_half_up(base * promo.percent_off, 100)
    times = base // promo.min_spend if promo.repeat else 1
    if promo.per_order_limit is not None:
        times = min(times, promo.per_order_limit)
    return min(promo.amount_off * times, base) if promo.amount_off else 0


def _covered(promo: SpendThreshold, lines: Sequence[WorkingLine]) -> list[WorkingLine]:
    return [w for w in order_discountable(lines) if targets(w.line, promo.skus, promo.categories)]


def apply_order_promotions(
    promotions: Sequence[SpendThreshold], lines: list[WorkingLine], *, stack: bool
) -> list[AppliedPromotion]:
    """Stage 3 on the working lines. Every threshold is measured on the stage-2
    amounts, also when stacking, so the order of stacked promotions cannot change
    whether one qualifies."""
    ordered = sorted(promotions, key=lambda p: (p.priority, p.id))
    offers = [
        (p, threshold_discount(p, sum(w.amount for w in _covered(p, lines)))) for p in ordered
    ]
    offers = [(p, amount) for p, amount in offers if amount > 0]
    if not stack and offers:
        best = max(amount for _, amount in offers)
        offers = [next(o for o in offers if o[1] == best)]
    applied = []
    for promo, amount in offers:
        taken = spread(
            _covered(promo, lines), amount, AdjustmentSource.PROMOTION, promo.id, promo.name
        )
        if taken:
            applied.append(AppliedPromotion(promo.id, promo.name, PromotionStage.ORDER, taken))
    return applied

"""Lines while they are being priced, and spreading an order discount over them.

Every order-level amount (threshold discount, coupon, custom discount, credit) is
split over lines with ``money.allocate``: proportional to the lines' current amounts,
remainders by largest fraction, ties by the larger amount then the SKU. A share can
never exceed its line's amount, so no line goes below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from commerce.money import allocate
from commerce.pricing.breakdown import Adjustment, AdjustmentSource
from commerce.pricing.cart import CartLine


def targets(line: CartLine, skus: Sequence[str], categories: Sequence[str]) -> bool:
    """Whether a rule naming ``skus``/``categories`` (none = everything) covers the line."""
    if line.is_gift:
        return False
    if not skus and not categories:
        return True
    return line.sku in skus or any(c in categories for c in line.categories)


@dataclass(slots=True)
class WorkingLine:
    """A line being priced. ``key`` is ``line.key``, kept as a plain attribute: every
    stage reads it, and ``CartLine.key`` is a property."""

    line: CartLine
    amount: int
    adjustments: list[Adjustment] = field(default_factory=list)
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.key = self.line.key

    @classmethod
    def start(cls, line: CartLine) -> WorkingLine:
        return cls(line, 0 if line.is_gift else line.unit_price * line.quantity)

    def copy(self) -> WorkingLine:
        return WorkingLine(self.line, self.amount, list(self.adjustments))


def order_discountable(lines: Sequence[WorkingLine]) -> list[WorkingLine]:
    """Lines open to order promotions, coupons and custom discounts."""
    return [w for w in lines if not w.line.is_gift and not w.line.no_order_discounts]


def spread(
    lines: Sequence[WorkingLine],
    amount: int,
    source: AdjustmentSource,
    ref: str,
    name: str,
    weights: Sequence[int] | None = None,
) -> int:
    """Take ``amount`` off ``lines`` in proportion to ``weights`` (one per line,
    default: their current amounts). Returns what was taken, which is less only if
    the lines are worth less than ``amount``."""
    if weights is None:
        weights = [w.amount for w in lines]
    amount = min(amount, sum(weights))
    shares = allocate(amount, weights, [w.key for w in lines])
    for line, share in zip(lines, shares, strict=True):
        if share:
            line.amount -= share
            line.adjustments.append(Adjustment(source, ref, name, share))
    return amount

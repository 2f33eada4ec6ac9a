"""The priced result: every line's adjustments and every order-level figure.

Frozen, so a breakdown stored on an order or sent to the order page is exactly what
the engine computed. ``to_dict`` gives the JSON form used by ``POST /api/quote``.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from commerce.pricing.rules import TaxMode


class AdjustmentSource(str, enum.Enum):
    PROMOTION = "promotion"
    COUPON = "coupon"
    CUSTOM = "custom"
    CREDIT = "credit"


@dataclass(frozen=True)
class Adjustment:
    """One reduction on one line. ``ref`` is the promotion id, coupon code, the custom
    discount's position (``custom-1``...) or ``credit``."""

    source: AdjustmentSource
    ref: str
    name: str
    amount: int


@dataclass(frozen=True)
class LineBreakdown:
    """``final_amount`` is the merchandise price after discounts; store credit is a
    way of paying, not a discount, so its share is listed apart and only
    ``paid_amount`` (the invoice line) subtracts it."""

    key: str
    sku: str
    name: str
    variant: str
    product_id: str | int | None
    quantity: int
    unit_price: int
    list_amount: int
    adjustments: tuple[Adjustment, ...]
    final_amount: int
    credit_share: int
    paid_amount: int
    is_gift: bool
    is_custom: bool


class PromotionStage(str, enum.Enum):
    ITEM = "item"
    ORDER = "order"
    SHIPPING = "shipping"


@dataclass(frozen=True)
class AppliedPromotion:
    id: str
    name: str
    stage: PromotionStage
    amount: int


@dataclass(frozen=True)
class CouponResult:
    """The coupon the buyer entered: applied with its saving, or refused with why."""

    code: str
    name: str
    applied: bool
    amount: int
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AppliedCustomDiscount:
    ref: str
    name: str
    percent: int | None
    amount: int


@dataclass(frozen=True)
class ShippingResult:
    method_code: str | None
    fee: int
    charged: int
    free_reason: str | None
    credit_share: int


@dataclass(frozen=True)
class CreditResult:
    """Store credit: ``cap`` is the most this order allows; ``refusal_code`` names the
    rule that refused or cut the buyer's credit (disabled, below_minimum,
    max_per_order, max_percent, balance, order_total)."""

    balance: int
    requested: int | None
    cap: int
    used: int
    refusal_code: str | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class TaxResult:
    """Inclusive: ``amount`` is the tax contained in the total. Exclusive: it is added."""

    mode: TaxMode
    rate_percent: int
    amount: int
    shown: bool


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[LineBreakdown, ...]
    subtotal: int
    promotions: tuple[AppliedPromotion, ...]
    promotion_total: int
    coupon: CouponResult | None
    coupon_total: int
    custom_discounts: tuple[AppliedCustomDiscount, ...]
    custom_discount_total: int
    merchandise_total: int
    shipping: ShippingResult
    credit: CreditResult
    tax: TaxResult
    total: int
    currency: str = "TWD"

    @property
    def discount_total(self) -> int:
        """Everything taken off the merchandise (not shipping waivers, not credit)."""
        return self.promotion_total + self.coupon_total + self.custom_discount_total

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["discount_total"] = self.discount_total
        return data


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value

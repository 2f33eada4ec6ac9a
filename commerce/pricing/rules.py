"""Config-facing pricing rules: promotions, coupons, store credit and tax.

These are read from the store config, so unknown keys are refused and each rule checks
its own numbers (a 120 % discount is a typo, not a gift). Times are stored in UTC; a
window starts inclusive and ends exclusive, so back-to-back campaigns never overlap.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID_RE = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Window(_Rule):
    """Something that is only valid between ``starts_at`` and ``ends_at``."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give times with a time zone, e.g. 2026-01-01T00:00:00+08:00")
        return value.astimezone(timezone.utc) if value is not None else None

    @model_validator(mode="after")
    def _ordered(self) -> Any:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def not_started(self, now: datetime) -> bool:
        return self.starts_at is not None and now < self.starts_at

    def ended(self, now: datetime) -> bool:
        return self.ends_at is not None and now >= self.ends_at

    def active(self, now: datetime) -> bool:
        return not self.not_started(now) and not self.ended(now)


class _Targeted(_Window):
    """Eligible products by SKU or category; both empty means all merchandise."""

    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


class _Promotion(_Targeted):
    id: str = Field(pattern=_ID_RE)
    name: str = Field(min_length=1)
    name_en: str = ""
    priority: int = 100
    per_order_limit: int | None = Field(default=None, ge=1)


class Tier(_Rule):
    quantity: int = Field(ge=1)
    price: int = Field(ge=0)


class AnyNForPrice(_Promotion):
    """任選: any N eligible units for a set price, the priciest units first."""

    type: Literal["any_n_for_price"] = "any_n_for_price"
    tiers: tuple[Tier, ...] = Field(min_length=1)
    repeat: bool = False

    @field_validator("tiers")
    @classmethod
    def _distinct(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if len({t.quantity for t in tiers}) != len(tiers):
            raise ValueError("each tier needs a different quantity")
        return tuple(sorted(tiers, key=lambda t: t.quantity))


class Combo(_Promotion):
    """A+B set: one unit from group A with one from group B for ``set_price``."""

    type: Literal["combo"] = "combo"
    a_skus: tuple[str, ...] = ()
    a_categories: tuple[str, ...] = ()
    b_skus: tuple[str, ...] = ()
    b_categories: tuple[str, ...] = ()
    set_price: int = Field(ge=0)

    @model_validator(mode="after")
    def _groups(self) -> Combo:
        if self.skus or self.categories:
            raise ValueError("a combo names its products in a_/b_skus and a_/b_categories")
        if not (self.a_skus or self.a_categories) or not (self.b_skus or self.b_categories):
            raise ValueError("a combo needs products for both group A and group B")
        return self


class BuyXGetY(_Promotion):
    """Buy X, get Y free or at a percentage off; ``get_*`` empty means the same pool."""

    type: Literal["buy_x_get_y"] = "buy_x_get_y"
    buy_quantity: int = Field(ge=1)
    get_quantity: int = Field(ge=1)
    percent_off: int = Field(default=100, ge=1, le=100)
    get_skus: tuple[str, ...] = ()
    get_categories: tuple[str, ...] = ()


class SpendThreshold(_Promotion):
    """滿額折: spend ``min_spend`` on eligible items, get an amount or a percentage off.

    With ``repeat`` the amount is given once per full ``min_spend`` (滿千送百, every
    thousand), capped by ``per_order_limit``.
    """

    type: Literal["spend_threshold"] = "spend_threshold"
    min_spend: int = Field(ge=1)
    amount_off: int | None = Field(default=None, ge=1)
    percent_off: int | None = Field(default=None, ge=1, le=100)
    repeat: bool = False

    @model_validator(mode="after")
    def _one_reward(self) -> SpendThreshold:
        if (self.amount_off is None) == (self.percent_off is None):
            raise ValueError("give exactly one of amount_off and percent_off")
        if self.repeat and self.amount_off is None:
            raise ValueError("repeat only applies to amount_off")
        return self


class FreeShippingOver(_Promotion):
    """Free shipping when eligible merchandise after discounts reaches ``min_spend``."""

    type: Literal["free_shipping_over"] = "free_shipping_over"
    min_spend: int = Field(ge=0)
    delivery_codes: tuple[str, ...] | None = None


Promotion = Annotated[
    AnyNForPrice | Combo | BuyXGetY | SpendThreshold | FreeShippingOver,
    Field(discriminator="type"),
]
ItemPromotion = AnyNForPrice | Combo | BuyXGetY


class CouponKind(str, enum.Enum):
    PERCENT = "percent"
    FIXED = "fixed"


def normalize_coupon_code(code: str) -> str:
    """Codes are typed by customers: full-width, stray spaces and case do not matter."""
    return unicodedata.normalize("NFKC", code).strip().upper()


class CouponDefinition(_Targeted):
    code: str
    name: str = Field(min_length=1)
    name_en: str = ""
    kind: CouponKind
    value: int = Field(ge=1)
    min_spend: int = Field(default=0, ge=0)
    total_limit: int | None = Field(default=None, ge=1)
    per_customer_limit: int | None = Field(default=None, ge=1)
    exclusive: bool = False

    @field_validator("code")
    @classmethod
    def _code(cls, code: str) -> str:
        code = normalize_coupon_code(code)
        if not re.fullmatch(r"[A-Z0-9_-]{3,32}", code):
            raise ValueError("a coupon code is 3-32 letters, digits, _ or -")
        return code

    @model_validator(mode="after")
    def _percent_range(self) -> CouponDefinition:
        if self.kind is CouponKind.PERCENT and self.value > 100:
            raise ValueError("a percent coupon is at most 100")
        return self


class StoreCreditPolicy(_Rule):
    """How much reward credit (1 point = NT$1) an order may use.

    ``merchant_may_choose`` lets a merchant set the amount when building an order in
    chat; otherwise only the buyer picks, and a merchant's draft uses the default.
    """

    enabled: bool = False
    min_order_amount: int = Field(default=0, ge=0)
    max_per_order: int | None = Field(default=None, ge=0)
    max_percent: int | None = Field(default=None, ge=0, le=100)
    include_shipping_in_base: bool = False
    merchant_may_choose: bool = False


class TaxMode(str, enum.Enum):
    INCLUSIVE = "inclusive"
    EXCLUSIVE = "exclusive"


class TaxPolicy(_Rule):
    """Shelf prices include tax by law (B2C); exclusive mode is for wholesale shops."""

    mode: TaxMode = TaxMode.INCLUSIVE
    rate_percent: int = Field(default=5, ge=0, le=100)
    show_tax_line: bool = False


class PricingRules(_Rule):
    """Everything the engine needs from config. ``stack_order_promotions`` applies
    every qualifying spend threshold instead of only the best one."""

    promotions: tuple[Promotion, ...] = ()
    coupons: tuple[CouponDefinition, ...] = ()
    store_credit: StoreCreditPolicy = StoreCreditPolicy()
    tax: TaxPolicy = TaxPolicy()
    stack_order_promotions: bool = False

    @model_validator(mode="after")
    def _unique(self) -> PricingRules:
        for label, keys in (
            ("promotion id", [p.id for p in self.promotions]),
            ("coupon code", [c.code for c in self.coupons]),
        ):
            duplicates = sorted({k for k in keys if keys.count(k) > 1})
            if duplicates:
                raise ValueError(f"duplicate {label}(s): {', '.join(duplicates)}")
        return self

    def coupon(self, code: str) -> CouponDefinition | None:
        wanted = normalize_coupon_code(code)
        return next((c for c in self.coupons if c.code == wanted), None)

    def item_promotions(self, now: datetime) -> list[ItemPromotion]:
        return [p for p in self.promotions if isinstance(p, ItemPromotion) and p.active(now)]

    def spend_thresholds(self, now: datetime) -> list[SpendThreshold]:
        return [p for p in self.promotions if isinstance(p, SpendThreshold) and p.active(now)]

    def free_shipping(self, now: datetime) -> list[FreeShippingOver]:
        return [p for p in self.promotions if isinstance(p, FreeShippingOver) and p.active(now)]

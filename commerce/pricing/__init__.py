"""Pricing: promotions, coupons, custom discounts, shipping, store credit and tax.

Pure functions over config models and frozen inputs; see ``engine`` for the order of
application and docs/pricing.md for the rules with a worked example.
"""

from commerce.pricing.breakdown import (
    Adjustment,
    AdjustmentSource,
    AppliedCustomDiscount,
    AppliedPromotion,
    Breakdown,
    CouponResult,
    CreditResult,
    LineBreakdown,
    PromotionStage,
    ShippingResult,
    TaxResult,
)
from commerce.pricing.cart import CartLine, CouponRequest, CustomDiscount, Parcel, PricingRequest
from commerce.pricing.coupons import CouponOption, CouponUsage, coupon_options
from commerce.pricing.engine import price
from commerce.pricing.rules import (
    AnyNForPrice,
    BuyXGetY,
    Combo,
    CouponDefinition,
    CouponKind,
    FreeShippingOver,
    PricingRules,
    Promotion,
    SpendThreshold,
    StoreCreditPolicy,
    TaxMode,
    TaxPolicy,
    Tier,
    normalize_coupon_code,
)

__all__ = [
    "Adjustment",
    "AdjustmentSource",
    "AnyNForPrice",
    "AppliedCustomDiscount",
    "AppliedPromotion",
    "Breakdown",
    "BuyXGetY",
    "CartLine",
    "Combo",
    "CouponDefinition",
    "CouponKind",
    "CouponOption",
    "CouponRequest",
    "CouponResult",
    "CouponUsage",
    "CreditResult",
    "CustomDiscount",
    "FreeShippingOver",
    "LineBreakdown",
    "Parcel",
    "PricingRequest",
    "PricingRules",
    "Promotion",
    "PromotionStage",
    "ShippingResult",
    "SpendThreshold",
    "StoreCreditPolicy",
    "TaxMode",
    "TaxPolicy",
    "TaxResult",
    "Tier",
    "coupon_options",
    "normalize_coupon_code",
    "price",
]

"""The seam between orders and pricing.

``OrderService`` asks a ``Pricer`` for totals. ``BasicPricer`` adds up lines and
the delivery fee; the full promotion/coupon/credit engine plugs in behind the
same protocol, so orders never depend on how prices are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from commerce.services.order_requests import OrderRequest


@dataclass(frozen=True)
class ItemSnapshot:
    kind: str  # product | gift | custom
    sku: str | None
    name: str
    variant_label: str
    unit_price: int
    quantity: int
    category: str | None = None
    image_url: str | None = None
    variant_id: int | None = None


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount_total: int
    shipping_fee: int
    credit_used: int
    tax: int
    total: int
    line_totals: tuple[int, ...]
    breakdown: dict = field(default_factory=dict)


class Pricer(Protocol):
    def quote(
        self, items: list[ItemSnapshot], request: OrderRequest, delivery: Any, *,
        customer_id: int,
    ) -> Totals: ...


class BasicPricer:
    """List prices times quantities plus the delivery method's fee; no promotions."""

    def quote(
        self, items: list[ItemSnapshot], request: OrderRequest, delivery: Any, *,
        customer_id: int,
    ) -> Totals:
        line_totals = tuple(
            0 if item.kind == "gift" else item.unit_price * item.quantity for item in items
        )
        subtotal = sum(line_totals)
        shipping = delivery.fee_for(subtotal)
        return Totals(subtotal, 0, shipping, 0, 0, subtotal + shipping, line_totals)

"""The seam between orders and pricing.

``OrderService`` asks a ``Pricer`` for totals. ``BasicPricer`` adds up lines and
the delivery fee; the full promotion/coupon/credit engine plugs in behind the
same protocol, so orders never depend on how prices are computed.

The pricer runs inside the order's transaction (``session``): what it reads (a
credit balance, coupon usage) is then consistent with what the order writes, and
on SQLite a second transaction would wait for the first one's write lock. The
coupon hooks let a pricer count a coupon use when an order is confirmed and give
it back when the order ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from commerce.orders import Order
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
    coupon_code: str | None = None  # the coupon applied (normalised), not merely asked for


class Pricer(Protocol):
    def quote(
        self, items: list[ItemSnapshot], request: OrderRequest, delivery: Any, *,
        customer_id: int, session: Session | None = None,
    ) -> Totals: ...

    def count_coupon(self, session: Session, order: Order) -> None:
        """The order was confirmed or paid: count its coupon use (once)."""

    def release_coupon(self, session: Session, order: Order) -> None:
        """The order was cancelled or expired: give its coupon use back."""


class BasicPricer:
    """List prices times quantities plus the delivery method's fee; no promotions."""

    def quote(
        self, items: list[ItemSnapshot], request: OrderRequest, delivery: Any, *,
        customer_id: int, session: Session | None = None,
    ) -> Totals:
        line_totals = tuple(
            0 if item.kind == "gift" else item.unit_price * item.quantity for item in items
        )
        subtotal = sum(line_totals)
        shipping = delivery.fee_for(subtotal)
        return Totals(subtotal, 0, shipping, 0, 0, subtotal + shipping, line_totals)

    def count_coupon(self, session: Session, order: Order) -> None:
        """No coupons here, so nothing to count."""

    def release_coupon(self, session: Session, order: Order) -> None:
        """No coupons here, so nothing to give back."""

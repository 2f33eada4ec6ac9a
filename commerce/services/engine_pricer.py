"""The order service's ``Pricer``, backed by the pricing engine (``commerce.pricing``).

It turns order items into the engine's cart lines, reads what the engine needs
from the database (the customer's credit balance, the coupon's usage) inside the
caller's transaction, and turns the breakdown into the totals stored on the order.
Quotes (``QuoteService``) go through the same ``price`` method, so a quote and the
order created from the same draft cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from commerce.delivery import DeliveryMethod
from commerce.errors import ValidationError
from commerce.money import allocate
from commerce.orders import Order
from commerce.payment import PaymentMethod
from commerce.pricing import (
    Breakdown,
    CartLine,
    CouponRequest,
    CustomDiscount,
    PricingRequest,
    PricingRules,
    price,
)
from commerce.services.coupon_service import CouponService, joined
from commerce.services.customer_service import get_customer
from commerce.services.order_requests import OrderRequest
from commerce.services.pricing_port import ItemSnapshot, Totals
from commerce.services.uow import UnitOfWork

_CUSTOM_DISCOUNT_KEYS = frozenset({"name", "amount", "percent"})


@dataclass(frozen=True)
class PricingChoices:
    """What the buyer or the merchant chose besides the items.

    ``store_credit=None`` means "as much as the rules allow"; ``by_merchant`` says
    who is asking, since custom discounts and choosing the credit amount are the
    merchant's (the latter only when the store allows it).
    """

    coupon_code: str | None = None
    store_credit: int | None = None
    custom_discounts: tuple[Mapping[str, Any], ...] = ()
    destination: str | None = None
    by_merchant: bool = True

    @classmethod
    def of(cls, request: OrderRequest) -> PricingChoices:
        """Orders are built by merchants (``OrderRequest``), in chat or the console."""
        return cls(
            coupon_code=request.coupon_code,
            store_credit=request.store_credit,
            custom_discounts=tuple(request.custom_discounts),
            destination=(request.delivery or {}).get("destination"),
        )


class EnginePricer:
    """Prices orders with the store's promotions, coupons, store credit and tax."""

    def __init__(
        self,
        uow: UnitOfWork,
        rules: PricingRules,
        payment_methods: Mapping[str, PaymentMethod],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._uow = uow
        self.rules = rules
        self.coupons = CouponService(uow, rules)
        self._payments = payment_methods
        self.clock = clock

    def quote(
        self, items: list[ItemSnapshot], request: OrderRequest, delivery: Any, *,
        customer_id: int, session: Session | None = None,
    ) -> Totals:
        payment = self._payments.get(request.payment_method)
        with joined(self._uow, session) as s:
            breakdown = self.price(
                s, items, PricingChoices.of(request), delivery, payment, customer_id
            )
        return totals_of(items, breakdown)

    def price(
        self,
        session: Session,
        items: Sequence[ItemSnapshot],
        choices: PricingChoices,
        delivery: DeliveryMethod | None,
        payment: PaymentMethod | None,
        customer_id: int | None,
    ) -> Breakdown:
        """The engine's breakdown for ``items``; reads balance and usage in ``session``."""
        balance = 0
        if customer_id is not None:
            balance = get_customer(session, customer_id).credit_balance
        coupon = None
        code = (choices.coupon_code or "").strip()
        if code:
            total_used, mine = self.coupons.usage(code, customer_id, session=session)
            coupon = CouponRequest(code, total_used, mine)
        request = PricingRequest(
            lines=tuple(cart_lines(items)),
            coupon=coupon,
            custom_discounts=custom_discounts(choices.custom_discounts),
            by_merchant=choices.by_merchant,
            credit_balance=balance,
            credit_requested=choices.store_credit,
            delivery=delivery,
            destination=choices.destination,
            payment=payment,
        )
        return price(request, self.rules, self.clock())

    def count_coupon(self, session: Session, order: Order) -> None:
        self.coupons.count(session, order)

    def release_coupon(self, session: Session, order: Order) -> None:
        self.coupons.release(session, order)


def cart_lines(items: Sequence[ItemSnapshot]) -> list[CartLine]:
    """One cart line per item, in order. Custom items have no SKU, so each gets the
    key ``custom-<n>``; the engine merges lines of one product itself."""
    lines: list[CartLine] = []
    customs = 0
    for item in items:
        sku = item.sku
        if item.kind == "custom" or not sku:
            customs += 1
            sku = f"custom-{customs}"
        lines.append(CartLine(
            sku=sku,
            name=item.name,
            unit_price=item.unit_price,
            quantity=item.quantity,
            variant=item.variant_label,
            categories=(item.category,) if item.category else (),
            is_gift=item.kind == "gift",
            is_custom=item.kind == "custom",
        ))
    return lines


def custom_discounts(raw: Sequence[Mapping[str, Any]]) -> tuple[CustomDiscount, ...]:
    """The merchant's discounts as typed (``{"name", "amount" | "percent"}``)."""
    found = []
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping) or set(entry) - _CUSTOM_DISCOUNT_KEYS:
            raise ValidationError(
                f"自訂折扣 #{position} 只能包含 name、amount 或 percent", field="custom_discounts"
            )
        name, amount, percent = entry.get("name"), entry.get("amount"), entry.get("percent")
        if not isinstance(name, str) or not all(
            value is None or (isinstance(value, int) and not isinstance(value, bool))
            for value in (amount, percent)
        ):
            raise ValidationError(
                f"自訂折扣 #{position} 需有文字名稱與整數金額或百分比", field="custom_discounts"
            )
        found.append(CustomDiscount(name.strip(), amount, percent))
    return tuple(found)


def totals_of(items: Sequence[ItemSnapshot], breakdown: Breakdown) -> Totals:
    """Order totals from a breakdown; each item's line total is its final amount.

    Two items of one product are one engine line: its final amount is shared over
    them in proportion to their list amounts, so the items still add up exactly.
    """
    keys = [line.key for line in cart_lines(items)]
    finals = {line.key: line.final_amount for line in breakdown.lines}
    line_totals = [0] * len(items)
    for key in dict.fromkeys(keys):
        indexes = [i for i, k in enumerate(keys) if k == key]
        weights = [0 if items[i].kind == "gift" else items[i].unit_price * items[i].quantity
                   for i in indexes]
        shares = allocate(finals[key], weights, [f"{i:04d}" for i in indexes])
        for i, share in zip(indexes, shares, strict=True):
            line_totals[i] = share
    coupon = breakdown.coupon
    return Totals(
        subtotal=breakdown.subtotal,
        discount_total=breakdown.discount_total,
        shipping_fee=breakdown.shipping.charged,
        credit_used=breakdown.credit.used,
        tax=breakdown.tax.amount,
        total=breakdown.total,
        line_totals=tuple(line_totals),
        breakdown=breakdown.to_dict(),
        coupon_code=coupon.code if coupon is not None and coupon.applied else None,
    )

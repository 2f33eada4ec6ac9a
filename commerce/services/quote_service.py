"""Quotes: what a draft order would cost, without creating or reserving anything.

The ``/order`` command, the console and ``POST /api/quote`` all ask this service,
and it prices with the order service's own ``EnginePricer``: the total a merchant
is quoted is the total the order gets when it is created from the same draft.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from commerce.delivery import DeliveryMethod
from commerce.errors import ValidationError
from commerce.payment import PaymentMethod, available_payment_methods
from commerce.pricing import Breakdown, CouponOption
from commerce.services.engine_pricer import EnginePricer, PricingChoices, cart_lines
from commerce.services.item_snapshots import catalogue_item
from commerce.services.order_requests import CustomItemRequest, LineRequest, OrderRequest
from commerce.services.pricing_port import ItemSnapshot
from commerce.services.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class QuoteDraft:
    """A draft order; unlike an ``OrderRequest`` it may leave out the customer (no
    credit, no per-customer coupon counts) and the payment method."""

    lines: tuple[LineRequest, ...] = ()
    gifts: tuple[LineRequest, ...] = ()
    custom_items: tuple[CustomItemRequest, ...] = ()
    delivery_method: str | None = None
    payment_method: str | None = None
    destination: str | None = None
    customer_id: int | None = None
    coupon_code: str | None = None
    store_credit: int | None = None
    custom_discounts: tuple[dict, ...] = ()
    by_merchant: bool = True

    @classmethod
    def of(cls, request: OrderRequest) -> QuoteDraft:
        """The draft of an order request, for quoting it before creating it."""
        choices = PricingChoices.of(request)
        return cls(
            lines=request.lines, gifts=request.gifts, custom_items=request.custom_items,
            delivery_method=request.delivery_method, payment_method=request.payment_method,
            destination=choices.destination, customer_id=request.customer_id,
            coupon_code=request.coupon_code, store_credit=request.store_credit,
            custom_discounts=request.custom_discounts,
        )

    def validate(self) -> None:
        """An order's shape checks (item count, quantities, custom items). Only the
        shape is looked at, so the customer and methods may be placeholders here."""
        OrderRequest(
            customer_id=self.customer_id or 0, delivery_method="", payment_method="",
            lines=self.lines, gifts=self.gifts, custom_items=self.custom_items,
            custom_discounts=self.custom_discounts,
        ).validate()

    def choices(self) -> PricingChoices:
        return PricingChoices(
            coupon_code=self.coupon_code, store_credit=self.store_credit,
            custom_discounts=self.custom_discounts, destination=self.destination,
            by_merchant=self.by_merchant,
        )


@dataclass(frozen=True)
class Quote:
    """A breakdown with what the buyer may pick next: payment methods that fit the
    delivery at this total, and (for a known customer) every coupon and why not."""

    breakdown: Breakdown
    payment_methods: tuple[PaymentMethod, ...]
    coupons: tuple[CouponOption, ...] | None


class QuoteService:
    def __init__(
        self,
        uow: UnitOfWork,
        pricer: EnginePricer,
        *,
        delivery_methods: Mapping[str, DeliveryMethod],
        payment_methods: Mapping[str, PaymentMethod],
    ) -> None:
        self._uow = uow
        self._pricer = pricer
        self._delivery = delivery_methods
        self._payment = payment_methods

    def quote(self, draft: QuoteDraft) -> Breakdown:
        """The breakdown the order would get, refusals (coupon, credit) included."""
        return self.details(draft).breakdown

    def details(self, draft: QuoteDraft) -> Quote:
        draft.validate()
        delivery = _pick(self._delivery, draft.delivery_method, "delivery_method", "配送方式")
        payment = _pick(self._payment, draft.payment_method, "payment_method", "付款方式")
        with self._uow() as session:
            items = _items(session, draft)
            breakdown = self._pricer.price(
                session, items, draft.choices(), delivery, payment, draft.customer_id
            )
            coupons = None
            if draft.customer_id is not None:
                coupons = tuple(self._pricer.coupons.options(
                    session, cart_lines(items), draft.customer_id, self._pricer.clock()
                ))
        methods = (
            available_payment_methods(delivery, self._payment.values(), breakdown.total)
            if delivery is not None else []
        )
        return Quote(breakdown, tuple(methods), coupons)


def _pick(methods: Mapping[str, T], code: str | None, field: str, what: str) -> T | None:
    if code is None:
        return None
    method = methods.get(code)
    if method is None:
        known = "、".join(methods) or "（無）"
        raise ValidationError(f"未知的{what}代碼 {code!r}；可用：{known}", field=field)
    return method


def _items(session: Session, draft: QuoteDraft) -> list[ItemSnapshot]:
    """Items at catalogue prices, like an order's, but no stock is reserved."""
    items: list[ItemSnapshot] = []
    for kind, key, lines in (("product", "lines", draft.lines), ("gift", "gifts", draft.gifts)):
        for position, line in enumerate(lines):
            _variant, item = catalogue_item(session, kind, line.sku, line.quantity,
                                            field=f"{key}.{position}.sku")
            items.append(item)
    items.extend(
        ItemSnapshot(kind="custom", sku=None, name=custom.name.strip(), variant_label="",
                     unit_price=custom.unit_price, quantity=custom.quantity)
        for custom in draft.custom_items
    )
    return items

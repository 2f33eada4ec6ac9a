"""Orders from creation to completion.

Each method is one transaction. Stock is reserved when the order is created and
released when it is cancelled or expires. Repeating an action that already took
effect (a second "confirm" tap) is not an error: the result says nothing changed,
so chat and web callers can answer politely instead of failing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.catalog import Product, Variant
from commerce.errors import IllegalTransition, NotFound, ValidationError
from commerce.order_status import HOLDS_STOCK, OrderStatus
from commerce.orders import Order, OrderItem, OrderNumberCounter
from commerce.records import PaymentProof
from commerce.services.customer_service import change_credit, get_customer
from commerce.services.item_snapshots import catalogue_item
from commerce.services.order_requests import CustomItemRequest, OrderRequest
from commerce.services.order_views import OrderView, view_of
from commerce.services.pricing_port import BasicPricer, ItemSnapshot, Pricer
from commerce.services.stock import release, reserve
from commerce.services.uow import UnitOfWork

S = OrderStatus
AFTER_CONFIRM = frozenset({S.CONFIRMED, S.AWAITING_PAYMENT, S.PROOF_SUBMITTED, S.PAID,
                           S.SHIPPED, S.COMPLETED})


@dataclass(frozen=True)
class ActionResult:
    order: OrderView
    changed: bool


@dataclass(frozen=True)
class OrderPolicy:
    timezone: str = "Asia/Taipei"
    unconfirmed_ttl: timedelta = timedelta(days=3)
    payment_deadline: timedelta = timedelta(hours=72)


class OrderService:
    def __init__(
        self,
        uow: UnitOfWork,
        *,
        delivery_methods: Mapping[str, Any],
        payment_methods: Mapping[str, Any],
        pricer: Pricer | None = None,
        policy: OrderPolicy = OrderPolicy(),
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._uow = uow
        self._delivery = delivery_methods
        self._payment = payment_methods
        self._pricer = pricer or BasicPricer()
        self._policy = policy
        self._clock = clock

    @property
    def pricer(self) -> Pricer:
        """The pricer orders use; quotes use it too, so a quote matches its order."""
        return self._pricer

    # -- creating ---------------------------------------------------------------

    def create(self, request: OrderRequest, *, actor: str) -> OrderView:
        request.validate()
        delivery = self._method(self._delivery, request.delivery_method, "配送方式")
        payment = self._method(self._payment, request.payment_method, "付款方式")
        if not getattr(delivery, "enabled", True) or not getattr(payment, "enabled", True):
            raise ValidationError("此配送或付款方式已停用", field="method")
        with self._uow() as session:
            customer = get_customer(session, request.customer_id)
            items = self._snapshot_items(session, request)
            totals = self._pricer.quote(items, request, delivery, customer_id=customer.id,
                                        session=session)
            order = Order(
                number=self._next_number(session), customer=customer,
                conversation_id=request.conversation_id,
                delivery_method=delivery.code, payment_method=payment.code,
                delivery=request.delivery, invoice=request.invoice,
                coupon_code=totals.coupon_code,  # only a coupon the pricer applied
            )
            order.set_tags(list(request.tags))
            order.set_note(request.note)
            for item, line_total in zip(items, totals.line_totals, strict=True):
                order.items.append(OrderItem(
                    kind=item.kind, variant_id=item.variant_id, sku=item.sku, name=item.name,
                    variant_label=item.variant_label, unit_price=item.unit_price,
                    quantity=item.quantity, line_total=line_total, image_url=item.image_url,
                ))
            self._apply_totals(order, totals)
            session.add(order)
            session.flush()
            if totals.credit_used:
                change_credit(session, customer.id, -totals.credit_used, "order_redeem",
                              order_id=order.id)
            session.flush()
            return view_of(order)

    def _snapshot_items(self, session: Session, request: OrderRequest) -> list[ItemSnapshot]:
        items: list[ItemSnapshot] = []
        for kind, lines in (("product", request.lines), ("gift", request.gifts)):
            for line in lines:
                variant, item = catalogue_item(session, kind, line.sku, line.quantity)
                reserve(session, variant, line.quantity)
                items.append(item)
        for custom in request.custom_items:
            sku = _list_in_shop(session, custom) if custom.show_in_shop else None
            items.append(ItemSnapshot(
                kind="custom", sku=sku, name=custom.name.strip(), variant_label="",
                unit_price=custom.unit_price, quantity=custom.quantity,
                image_url=custom.image_url,
            ))
        return items

    @staticmethod
    def _apply_totals(order: Order, totals: Any) -> None:
        order.subtotal, order.discount_total = totals.subtotal, totals.discount_total
        order.shipping_fee, order.credit_used = totals.shipping_fee, totals.credit_used
        order.tax, order.total, order.pricing = totals.tax, totals.total, totals.breakdown

    def _next_number(self, session: Session) -> str:
        """``YYMMDD`` in the store's time zone plus a per-day sequence: ``261123001``."""
        day = self._clock().astimezone(ZoneInfo(self._policy.timezone)).strftime("%y%m%d")
        bumped = session.execute(
            update(OrderNumberCounter).where(OrderNumberCounter.day == day)
            .values(last=OrderNumberCounter.last + 1)
            .returning(OrderNumberCounter.last)
        ).scalar_one_or_none()
        if bumped is None:
            try:
                with session.begin_nested():
                    session.add(OrderNumberCounter(day=day, last=1))
                bumped = 1
            except IntegrityError:
                return self._next_number(session)
        return f"{day}{bumped:03d}"

    @staticmethod
    def _method(methods: Mapping[str, Any], code: str, what: str) -> Any:
        method = methods.get(code)
        if method is None:
            known = "、".join(methods) or "（無）"
            raise ValidationError(f"未知的{what}代碼 {code!r}；可用：{known}", field="method")
        return method

    # -- reading ----------------------------------------------------------------

    def get(self, number: str) -> OrderView:
        with self._uow.read() as session:
            return view_of(self._load(session, number))

    def get_by_id(self, order_id: int) -> OrderView:
        with self._uow.read() as session:
            order = session.get(Order, order_id)
            if order is None:
                raise NotFound(f"找不到訂單 #{order_id}", field="order")
            return view_of(order)

    def list(
        self, *, status: OrderStatus | None = None, customer_id: int | None = None,
        conversation_id: int | None = None, limit: int = 20,
    ) -> list[OrderView]:
        with self._uow.read() as session:
            query = select(Order).order_by(Order.id.desc()).limit(limit)
            if status is not None:
                query = query.where(Order.status == status.value)
            if customer_id is not None:
                query = query.where(Order.customer_id == customer_id)
            if conversation_id is not None:
                query = query.where(Order.conversation_id == conversation_id)
            return [view_of(o) for o in session.scalars(query)]

    @staticmethod
    def _load(session: Session, number: str) -> Order:
        order = session.scalar(select(Order).where(Order.number == number.strip().lstrip("#")))
        if order is None:
            raise NotFound(f"找不到訂單 {number}", field="order")
        return order

    # -- lifecycle --------------------------------------------------------------

    def send(self, number: str, *, actor: str) -> OrderView:
        """Mark the order as sent to the customer; resending renews the expiry."""
        with self._uow() as session:
            order = self._load(session, number)
            order.move_to(S.SENT, actor=actor)
            order.expires_at = self._clock() + self._policy.unconfirmed_ttl
            return view_of(order)

    def confirm(self, number: str, *, actor: str) -> ActionResult:
        """The customer accepts the order (and the shop's terms); next step follows."""
        with self._uow() as session:
            order = self._load(session, number)
            if order.state in AFTER_CONFIRM:
                return ActionResult(view_of(order), changed=False)
            order.move_to(S.CONFIRMED, actor=actor)
            self._pricer.count_coupon(session, order)  # a coupon use counts from confirmation
            order.accepted_terms_at = self._clock()
            order.expires_at = None
            payment = self._payment.get(order.payment_method)
            if not getattr(payment, "skips_payment", False):
                order.move_to(S.AWAITING_PAYMENT, actor="system")
                order.payment_due_at = self._clock() + self._policy.payment_deadline
            return ActionResult(view_of(order), changed=True)

    def submit_proof(
        self, number: str, *, media_id: int | None, source: str,
        account_last5: str | None = None, transferred_at: datetime | None = None,
    ) -> OrderView:
        if account_last5 is not None and not (
            len(account_last5) == 5 and account_last5.isascii() and account_last5.isdigit()
        ):
            raise ValidationError("帳號末五碼需為 5 位數字", field="account_last5")
        with self._uow() as session:
            order = self._load(session, number)
            order.move_to(S.PROOF_SUBMITTED, actor="customer")
            session.add(PaymentProof(
                order_id=order.id, media_id=media_id, account_last5=account_last5,
                transferred_at=transferred_at, source=source,
            ))
            return view_of(order)

    def set_proof_last5(self, number: str, account_last5: str) -> OrderView:
        """Attach the paying account's last five digits to the latest proof."""
        if not (len(account_last5) == 5 and account_last5.isascii() and account_last5.isdigit()):
            raise ValidationError("帳號末五碼需為 5 位數字", field="account_last5")
        with self._uow() as session:
            order = self._load(session, number)
            proof = self._latest_proof(session, order)
            if proof is None:
                raise ValidationError(f"訂單 {order.number} 尚未上傳轉帳證明", field="proof")
            proof.account_last5 = account_last5
            return view_of(order)

    def verify_payment(self, number: str, *, actor: str) -> ActionResult:
        with self._uow() as session:
            order = self._load(session, number)
            if order.state in {S.PAID, S.SHIPPED, S.COMPLETED}:
                return ActionResult(view_of(order), changed=False)
            order.move_to(S.PAID, actor=actor)
            self._pricer.count_coupon(session, order)  # no-op when counted at confirmation
            proof = self._latest_proof(session, order)
            if proof is not None:
                proof.status = "accepted"
            return ActionResult(view_of(order), changed=True)

    def reject_proof(self, number: str, reason: str, *, actor: str) -> OrderView:
        reason = reason.strip()
        if not reason:
            raise ValidationError("請說明退回原因", field="reason")
        with self._uow() as session:
            order = self._load(session, number)
            if order.state is not S.PROOF_SUBMITTED:
                raise IllegalTransition(
                    f"訂單 {order.number} 目前為「{order.status_label}」，沒有待核對的轉帳證明",
                    field="status",
                )
            order.move_to(S.AWAITING_PAYMENT, actor=actor, note=reason[:300])
            proof = self._latest_proof(session, order)
            if proof is not None:
                proof.status, proof.reject_reason = "rejected", reason[:200]
            return view_of(order)

    def ship(self, number: str, *, actor: str, tracking: str | None = None) -> OrderView:
        with self._uow() as session:
            order = self._load(session, number)
            if order.state is S.CONFIRMED and not getattr(
                self._payment.get(order.payment_method), "skips_payment", False
            ):
                raise ValidationError(f"訂單 {order.number} 尚未付款，不能出貨", field="status")
            order.move_to(S.SHIPPED, actor=actor)
            order.tracking_number = tracking
            return view_of(order)

    def complete(self, number: str, *, actor: str) -> OrderView:
        with self._uow() as session:
            order = self._load(session, number)
            order.move_to(S.COMPLETED, actor=actor)
            return view_of(order)

    def cancel(self, number: str, *, actor: str, reason: str = "") -> ActionResult:
        with self._uow() as session:
            order = self._load(session, number)
            if order.state is S.CANCELLED:
                return ActionResult(view_of(order), changed=False)
            self._end(session, order, S.CANCELLED, actor=actor, note=reason)
            return ActionResult(view_of(order), changed=True)

    def expire_due(self, *, limit: int = 100) -> list[OrderView]:
        """Expire orders the customer never confirmed; their stock goes back on sale."""
        now = self._clock()
        with self._uow() as session:
            due = session.scalars(
                select(Order).where(Order.status == S.SENT.value, Order.expires_at <= now)
                .order_by(Order.expires_at).limit(limit)
            ).all()
            for order in due:
                self._end(session, order, S.EXPIRED, actor="system")
            return [view_of(o) for o in due]

    def _end(self, session: Session, order: Order, status: OrderStatus, **kw: str) -> None:
        held = order.state in HOLDS_STOCK
        order.move_to(status, **kw)
        if held:
            for item in order.items:
                if item.variant_id is not None:
                    release(session, item.variant_id, item.quantity)
            if order.credit_used:
                change_credit(session, order.customer_id, order.credit_used, "order_refund",
                              order_id=order.id)
            self._pricer.release_coupon(session, order)

    @staticmethod
    def _latest_proof(session: Session, order: Order) -> PaymentProof | None:
        return session.scalar(
            select(PaymentProof).where(PaymentProof.order_id == order.id)
            .order_by(PaymentProof.id.desc()).limit(1)
        )


def _list_in_shop(session: Session, custom: CustomItemRequest) -> str:
    """Put a one-off item in the catalogue too (the merchant ticked "show in shop").

    It is listed with no stock: the unit sold here was made for this order, and
    the merchant adds stock when more can be made.
    """
    ident = secrets.token_hex(4)
    product = Product(slug=f"custom-{ident}", name=custom.name.strip(),
                      image_url=custom.image_url, category="自訂商品")
    product.variants.append(Variant(sku=f"CUSTOM-{ident.upper()}", price=custom.unit_price,
                                    stock=0, options={}))
    session.add(product)
    session.flush()
    return product.variants[0].sku

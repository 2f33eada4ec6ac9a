"""Turns an ``OrderView`` into what the order page shows, in the reader's language.

All decisions about what a customer may do next (confirm, pay, upload again) are
made here from the order's status and its payment method, so the template only
lays things out and the tests can check the decisions without parsing HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from commerce.order_status import LABELS_ZH, OrderStatus
from commerce.payment import PaymentMethod
from commerce.services.order_views import OrderView
from web.config import AppConfig

S = OrderStatus
Translate = Callable[..., str]

_PAID_PATH = (S.SENT, S.CONFIRMED, S.AWAITING_PAYMENT, S.PAID, S.SHIPPED, S.COMPLETED)
_PROOF_PATH = (S.SENT, S.CONFIRMED, S.AWAITING_PAYMENT, S.PROOF_SUBMITTED, S.PAID, S.SHIPPED,
               S.COMPLETED)
_ON_DELIVERY_PATH = (S.SENT, S.CONFIRMED, S.SHIPPED, S.COMPLETED)


@dataclass(frozen=True)
class Item:
    """``list_total`` adds up to the subtotal; ``final`` is the line after its share of
    the discounts listed under the items (shown only when it differs)."""

    name: str
    variant: str
    quantity: int
    unit_price: int
    list_total: int
    final: int
    image_url: str | None
    is_gift: bool


@dataclass(frozen=True)
class Line:
    """A figure under the items; discounts are negative."""

    label: str
    amount: int


@dataclass(frozen=True)
class Step:
    label: str
    at: str | None
    state: str  # done | current | todo


@dataclass(frozen=True)
class BankDetails:
    bank_name: str
    bank_code: str
    account_number: str
    account_name: str
    amount: int
    deadline: str | None
    deadline_hours: int


@dataclass(frozen=True)
class OrderPage:
    shop_name: str
    number: str
    status: str
    status_label: str
    items: tuple[Item, ...]
    subtotal: int
    adjustments: tuple[Line, ...]
    shipping: int
    tax: Line | None
    total: int
    delivery_name: str
    delivery_lines: tuple[str, ...]
    payment_name: str
    bank: BankDetails | None
    pays_on_delivery: bool
    steps: tuple[Step, ...]
    can_confirm: bool
    can_pay: bool
    proof_pending: bool
    rejected_reason: str | None
    currency: str


def present(order: OrderView, config: AppConfig, locale: str, t: Translate) -> OrderPage:
    zone = ZoneInfo(config.store.timezone)
    english = locale == "en"
    payment = {m.code: m for m in config.payment_methods}.get(order.payment_method)
    delivery = {m.code: m for m in config.delivery_methods}.get(order.delivery_method)
    status = order.status
    needs_proof = bool(payment and payment.needs_proof)
    return OrderPage(
        shop_name=(english and config.store.name_en) or config.store.name,
        number=order.number,
        status=status.value,
        status_label=t(LABELS_ZH[status]),
        items=tuple(Item(i.name, i.variant_label, i.quantity, i.unit_price,
                         0 if i.kind == "gift" else i.unit_price * i.quantity, i.line_total,
                         i.image_url, i.kind == "gift") for i in order.items),
        subtotal=order.subtotal,
        adjustments=_adjustments(order, t),
        shipping=order.shipping_fee,
        tax=_tax(order, t),
        total=order.total,
        delivery_name=_name(delivery, english, order.delivery_method),
        delivery_lines=_delivery_lines(order.delivery),
        payment_name=_name(payment, english, order.payment_method),
        bank=_bank(order, payment, config, zone) if needs_proof else None,
        pays_on_delivery=bool(payment and payment.skips_payment),
        steps=_steps(order, payment, zone, t),
        can_confirm=status is S.SENT,
        can_pay=needs_proof and status in (S.AWAITING_PAYMENT, S.PROOF_SUBMITTED),
        proof_pending=status is S.PROOF_SUBMITTED,
        rejected_reason=_rejected_reason(order),
        currency=config.store.currency,
    )


def local_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime("%Y/%m/%d %H:%M") if moment else None


def _name(method: object, english: bool, code: str) -> str:
    if method is None:
        return code
    return (english and getattr(method, "name_en", "")) or method.name  # type: ignore[attr-defined]


def _adjustments(order: OrderView, t: Translate) -> tuple[Line, ...]:
    pricing = order.pricing or {}
    lines = [Line(p["name"], -p["amount"]) for p in pricing.get("promotions", ())
             if p.get("stage") != "shipping" and p.get("amount")]
    coupon = pricing.get("coupon")
    if coupon and coupon.get("applied") and coupon.get("amount"):
        lines.append(Line(t("優惠券 {code}", code=coupon["code"]), -coupon["amount"]))
    lines += [Line(d["name"], -d["amount"]) for d in pricing.get("custom_discounts", ())
              if d.get("amount")]
    listed = -sum(line.amount for line in lines)
    if order.discount_total > listed:
        lines.append(Line(t("折扣"), -(order.discount_total - listed)))
    if order.credit_used:
        lines.append(Line(t("購物金折抵"), -order.credit_used))
    return tuple(lines)


def _tax(order: OrderView, t: Translate) -> Line | None:
    tax = (order.pricing or {}).get("tax")
    if not tax or not tax.get("shown"):
        return None
    if tax.get("mode") == "exclusive":
        return Line(t("營業稅 {rate}%", rate=tax["rate_percent"]), tax["amount"])
    return Line(t("內含營業稅 {rate}%", rate=tax["rate_percent"]), tax["amount"])


def _delivery_lines(delivery: dict) -> tuple[str, ...]:
    store = delivery.get("store") or {}
    lines = [store.get("name", ""), store.get("address", "")] if store else []
    if not store:
        lines.append(delivery.get("address") or "")
    recipient = " ".join(filter(None, (delivery.get("name"), _mask(delivery.get("phone")))))
    lines.append(recipient)
    return tuple(line for line in lines if line)


def _mask(phone: str | None) -> str | None:
    """The middle digits hidden: the page may be forwarded or screenshotted."""
    if not phone or len(phone) < 7:
        return phone
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]


def _bank(order: OrderView, method: PaymentMethod, config: AppConfig,
          zone: ZoneInfo) -> BankDetails:
    return BankDetails(
        bank_name=method.bank_name or "", bank_code=method.bank_code or "",
        account_number=method.account_number or "", account_name=method.account_name or "",
        amount=order.total, deadline=local_time(order.payment_due_at, zone),
        deadline_hours=config.orders.payment_deadline_hours,
    )


def _steps(order: OrderView, payment: PaymentMethod | None, zone: ZoneInfo,
           t: Translate) -> tuple[Step, ...]:
    if payment and payment.skips_payment:
        path = _ON_DELIVERY_PATH
    elif payment and payment.needs_proof:
        path = _PROOF_PATH
    else:
        path = _PAID_PATH
    reached = {e.to_status: e.at for e in order.events}
    status = order.status
    ended = status in (S.CANCELLED, S.EXPIRED)
    position = path.index(status) if status in path else -1
    if ended:
        position = max((i for i, s in enumerate(path) if s.value in reached), default=-1)
    steps = []
    for index, step in enumerate(path):
        if index < position or (ended and index == position):
            state = "done"
        elif index == position:
            state = "current"
        else:
            state = "todo"
        at = reached.get(step.value) if state != "todo" else None
        steps.append(Step(t(LABELS_ZH[step]), local_time(at, zone), state))
    if ended:
        steps = [s for s in steps if s.state == "done"]
        steps.append(Step(t(LABELS_ZH[status]), local_time(reached.get(status.value), zone),
                          "current"))
    return tuple(steps)


def _rejected_reason(order: OrderView) -> str | None:
    """The merchant's reason, while the customer still has to pay again."""
    if order.status is not S.AWAITING_PAYMENT or not order.events:
        return None
    last = order.events[-1]
    if last.from_status == S.PROOF_SUBMITTED.value and last.to_status == order.status.value:
        return last.note or ""
    return None

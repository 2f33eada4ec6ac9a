"""Read models of orders handed to the outer layers (detached from the session)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from commerce.order_status import LABELS_ZH, OrderStatus
from commerce.orders import Order


@dataclass(frozen=True)
class ItemView:
    kind: str
    sku: str | None
    name: str
    variant_label: str
    unit_price: int
    quantity: int
    line_total: int
    image_url: str | None


@dataclass(frozen=True)
class EventView:
    from_status: str
    to_status: str
    actor: str
    note: str
    at: datetime


@dataclass(frozen=True)
class OrderView:
    id: int
    number: str
    status: OrderStatus
    status_label: str
    customer_id: int
    customer_name: str
    conversation_id: int | None
    delivery_method: str
    payment_method: str
    delivery: dict
    invoice: dict | None
    tags: tuple[str, ...]
    note: str
    subtotal: int
    discount_total: int
    shipping_fee: int
    credit_used: int
    tax: int
    total: int
    pricing: dict | None
    items: tuple[ItemView, ...]
    events: tuple[EventView, ...]
    created_at: datetime
    expires_at: datetime | None
    payment_due_at: datetime | None
    tracking_number: str | None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        for key in ("created_at", "expires_at", "payment_due_at"):
            data[key] = data[key].isoformat() if data[key] else None
        for event in data["events"]:
            event["at"] = event["at"].isoformat()
        return data


def view_of(order: Order) -> OrderView:
    return OrderView(
        id=order.id, number=order.number, status=order.state,
        status_label=LABELS_ZH[order.state], customer_id=order.customer_id,
        customer_name=order.customer.name, conversation_id=order.conversation_id,
        delivery_method=order.delivery_method, payment_method=order.payment_method,
        delivery=dict(order.delivery or {}), invoice=order.invoice, tags=tuple(order.tags),
        note=order.note, subtotal=order.subtotal, discount_total=order.discount_total,
        shipping_fee=order.shipping_fee, credit_used=order.credit_used, tax=order.tax,
        total=order.total, pricing=order.pricing,
        items=tuple(
            ItemView(i.kind, i.sku, i.name, i.variant_label, i.unit_price, i.quantity,
                     i.line_total, i.image_url)
            for i in order.items
        ),
        events=tuple(
            EventView(e.from_status, e.to_status, e.actor, e.note, e.created_at)
            for e in order.events
        ),
        created_at=order.created_at, expires_at=order.expires_at,
        payment_due_at=order.payment_due_at, tracking_number=order.tracking_number,
    )

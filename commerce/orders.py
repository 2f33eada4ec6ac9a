"""The order aggregate: items snapshotted at order time, tags, note, totals and
the status lifecycle. Illegal moves raise ``IllegalTransition``; every move is
recorded as an ``OrderEvent`` so the customer and merchant can see the history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import limits
from commerce.customers import Customer, clean_tag
from commerce.db.base import Base, UTCDateTime, utcnow
from commerce.errors import IllegalTransition, LimitExceeded, ValidationError
from commerce.order_status import LABELS_ZH, OrderStatus, can_move


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.DRAFT.value, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    delivery_method: Mapped[str] = mapped_column(String(40))
    payment_method: Mapped[str] = mapped_column(String(40))
    delivery: Mapped[dict] = mapped_column(JSON, default=dict)
    invoice: Mapped[dict | None] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(limits.ORDER_NOTE_MAX), default="")
    currency: Mapped[str] = mapped_column(String(3), default="TWD")
    subtotal: Mapped[int] = mapped_column(Integer, default=0)
    discount_total: Mapped[int] = mapped_column(Integer, default=0)
    shipping_fee: Mapped[int] = mapped_column(Integer, default=0)
    credit_used: Mapped[int] = mapped_column(Integer, default=0)
    tax: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    pricing: Mapped[dict | None] = mapped_column(JSON)
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_terms_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped[Customer] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    @property
    def state(self) -> OrderStatus:
        return OrderStatus(self.status)

    @property
    def status_label(self) -> str:
        return LABELS_ZH[self.state]

    def move_to(self, target: OrderStatus, *, actor: str, note: str = "") -> None:
        """Apply one lifecycle move, or raise with the current and wanted status."""
        current = self.state
        if not can_move(current, target):
            raise IllegalTransition(
                f"訂單 {self.number} 目前為「{LABELS_ZH[current]}」，"
                f"無法改為「{LABELS_ZH[target]}」",
                field="status",
            )
        self.status = target.value
        self.events.append(
            OrderEvent(from_status=current.value, to_status=target.value, actor=actor, note=note)
        )

    def set_tags(self, tags: list[str]) -> None:
        cleaned: list[str] = []
        for tag in tags:
            tag = clean_tag(tag)
            if tag not in cleaned:
                cleaned.append(tag)
        if len(cleaned) > limits.ORDER_TAGS_MAX:
            raise LimitExceeded(f"訂單標籤最多 {limits.ORDER_TAGS_MAX} 個", field="tags")
        self.tags = cleaned

    def set_note(self, note: str) -> None:
        note = note.strip()
        if len(note) > limits.ORDER_NOTE_MAX:
            raise LimitExceeded(
                f"訂單備註最多 {limits.ORDER_NOTE_MAX} 字（目前 {len(note)} 字）", field="note"
            )
        self.note = note


class OrderItem(Base):
    """A line as it was sold: name, variant and price copied from the catalogue."""

    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="product")
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"))
    sku: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    variant_label: Mapped[str] = mapped_column(String(120), default="")
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(Integer)
    image_url: Mapped[str | None] = mapped_column(String(1000))

    order: Mapped[Order] = relationship(back_populates="items")

    def __init__(self, **kw) -> None:  # noqa: ANN003
        super().__init__(**kw)
        if self.quantity is not None and self.quantity < 1:
            raise ValidationError("數量至少為 1", field="quantity")


class OrderEvent(Base):
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")


class OrderNumberCounter(Base):
    """Per-day counter behind human-friendly order numbers like ``261123007``."""

    __tablename__ = "order_number_counters"

    day: Mapped[str] = mapped_column(String(6), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)

"""Customers (members): contact details, tier, tags, notes, saved addresses and
a store-credit balance backed by an append-only ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import limits
from commerce.db.base import Base, UTCDateTime, utcnow
from commerce.errors import LimitExceeded, ValidationError


def clean_tag(tag: str) -> str:
    tag = tag.strip()
    if not tag:
        raise ValidationError("標籤不可空白", field="tags")
    if len(tag) > limits.TAG_LENGTH_MAX:
        raise ValidationError(f"標籤最多 {limits.TAG_LENGTH_MAX} 個字：{tag!r}", field="tags")
    return tag


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("credit_balance >= 0", name="credit_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    tier: Mapped[str] = mapped_column(String(30), default="regular")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    credit_balance: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id"
    )

    def add_tag(self, tag: str) -> None:
        tag = clean_tag(tag)
        if tag in self.tags:
            return
        if len(self.tags) >= limits.CUSTOMER_TAGS_MAX:
            raise LimitExceeded(f"顧客標籤最多 {limits.CUSTOMER_TAGS_MAX} 個", field="tags")
        self.tags = [*self.tags, tag]

    def add_note(self, text: str) -> None:
        text = text.strip()
        if not text:
            raise ValidationError("備註不可空白", field="notes")
        combined = f"{self.notes}\n{text}" if self.notes else text
        if len(combined) > limits.CUSTOMER_NOTE_MAX:
            raise LimitExceeded(f"顧客備註最多 {limits.CUSTOMER_NOTE_MAX} 字", field="notes")
        self.notes = combined

    def add_address(self, address: Address) -> None:
        if len(self.addresses) >= limits.CUSTOMER_ADDRESSES_MAX:
            raise LimitExceeded(
                f"每位顧客最多儲存 {limits.CUSTOMER_ADDRESSES_MAX} 個地址", field="addresses"
            )
        self.addresses.append(address)


class Address(Base):
    """A saved delivery destination: a home address or a pickup store snapshot."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(30), default="")
    recipient_name: Mapped[str] = mapped_column(String(60))
    recipient_phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10), default="home")
    address: Mapped[str] = mapped_column(String(200), default="")
    store: Mapped[dict | None] = mapped_column(JSON)

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class CreditEntry(Base):
    """One movement of store credit; ``balance_after`` makes the ledger auditable."""

    __tablename__ = "credit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

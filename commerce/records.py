"""Smaller durable records: bindings, admins and their invites, API tokens, media
files, payment proofs, coupon usage and order-page links.

Secrets (invite codes, API tokens, order-page tokens) are stored only as hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce.db.base import Base, UTCDateTime, utcnow


class Binding(Base):
    """A shop visitor's browser linked to a chat conversation (and so a customer)."""

    __tablename__ = "bindings"
    __table_args__ = (UniqueConstraint("visitor_id", "conversation_id", name="uq_bindings_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(80), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    member_ref: Mapped[str | None] = mapped_column(String(120))
    member_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Admin(Base):
    """A merchant admin known by a chat identity (registered with an invite code)."""

    __tablename__ = "admins"
    __table_args__ = (UniqueConstraint("channel", "account", "user_id", name="uq_admins_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminInvite(Base):
    __tablename__ = "admin_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_admin_id: Mapped[int | None] = mapped_column(ForeignKey("admins.id"))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MediaFile(Base):
    """A file kept in the media directory; only its metadata lives in SQL."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(300), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentProof(Base):
    __tablename__ = "payment_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"))
    account_last5: Mapped[str | None] = mapped_column(String(5))
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    reject_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponUsage(Base):
    """A coupon held by an order; released rows stay for the audit trail."""

    __tablename__ = "coupon_usages"
    __table_args__ = (UniqueConstraint("coupon_code", "order_id", name="uq_coupon_usages_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_code: Mapped[str] = mapped_column(String(40), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="counted")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponCounter(Base):
    """Atomic total-usage counter per coupon (a conditional UPDATE guards the limit)."""

    __tablename__ = "coupon_counters"

    coupon_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class OrderLink(Base):
    """The customer's order-page token, hashed; resending replaces it."""

    __tablename__ = "order_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extra: Mapped[dict | None] = mapped_column(JSON)

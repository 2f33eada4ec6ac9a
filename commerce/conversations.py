"""Conversation records and message history (the message center's inbox).

The chat platforms are only names here ("line", "messenger"): this module holds
what was said and to whom, not how it travels.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce.db.base import Base, UTCDateTime, utcnow


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "account", "user_id", name="uq_conversations_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(128))
    short_id: Mapped[str] = mapped_column(String(12), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_auto_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unread: Mapped[int] = mapped_column(Integer, default=0)
    starred: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_admin_id: Mapped[int | None] = mapped_column(ForeignKey("admins.id"))
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    messages: Mapped[list[ChatMessage]] = relationship(
        back_populates="conversation", order_by="ChatMessage.id"
    )


class ChatMessage(Base):
    """One message in or out. ``status`` follows delivery: received for inbound;
    queued -> sent | held | failed for outbound."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        # The worker looks an inbound event up before every turn (was it recorded by
        # an earlier attempt?) and asks whether updates are held for the customer.
        # Through the conversation index alone both read the conversation's whole
        # history, so a turn cost grew with it: about 1 ms per inbound message for
        # a customer with 5,000 messages (docs/performance.md, item 31).
        Index("ix_chat_messages_event", "platform_event_id", "conversation_id"),
        Index("ix_chat_messages_held", "conversation_id", "status",
              sqlite_where=text("status = 'held'"), postgresql_where=text("status = 'held'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict | None] = mapped_column(JSON)
    platform_event_id: Mapped[str | None] = mapped_column(String(128))
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    outbox_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"))
    status: Mapped[str] = mapped_column(String(12))
    error: Mapped[str] = mapped_column(String(300), default="")
    written_by_human: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")

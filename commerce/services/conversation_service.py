"""Conversation records and message history in SQL.

Inbound messages are recorded with the platform's event id, which makes handling
idempotent: a worker that finds an event already marked handled skips it.
Outbound messages are rows too (``queued`` until the sender reports), so the
history and the delivery status of every message live in one place.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import (
    Select,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from commerce.conversations import ChatMessage, Conversation
from commerce.db.prepared_read import PreparedRead
from commerce.errors import NotFound
from commerce.identity import ConversationKey
from commerce.services.uow import Rows, UnitOfWork

SHORT_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


@dataclass(frozen=True)
class ConversationView:
    id: int
    channel: str
    account: str
    user_id: str
    short_id: str
    display_name: str
    customer_id: int | None
    last_inbound_at: datetime | None
    last_auto_reply_at: datetime | None

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(self.channel, self.account, self.user_id)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        return f"{self.display_name or self.user_id[:8]} ({self.short_id})"


def _view(c: Conversation) -> ConversationView:
    return ConversationView(c.id, c.channel, c.account, c.user_id, c.short_id, c.display_name,
                            c.customer_id, c.last_inbound_at, c.last_auto_reply_at)


_CONVERSATIONS = Conversation.__table__
_MESSAGES = ChatMessage.__table__
_VIEW_COLUMNS = (_CONVERSATIONS.c.id, _CONVERSATIONS.c.channel, _CONVERSATIONS.c.account,
                 _CONVERSATIONS.c.user_id, _CONVERSATIONS.c.short_id,
                 _CONVERSATIONS.c.display_name, _CONVERSATIONS.c.customer_id,
                 _CONVERSATIONS.c.last_inbound_at, _CONVERSATIONS.c.last_auto_reply_at)


def _open_inbound_statement() -> Select:
    """The conversation by its key, with the event's row (if an earlier attempt wrote
    it) and whether updates are held for it; built once, run on every event.

    Each part is one index probe, whatever the length of the conversation's history
    (``ChatMessage``'s indexes): the event's row by its platform id, joined once for
    both its id and status, and the held rows through a partial index, which SQLite
    uses only when the query says ``status = 'held'`` literally, not as a parameter."""
    seen = _MESSAGES.alias("seen")
    held = exists().where(_MESSAGES.c.conversation_id == _CONVERSATIONS.c.id,
                          _MESSAGES.c.status == literal_column("'held'"),
                          _MESSAGES.c.direction == "out")
    found = _CONVERSATIONS.outerjoin(seen, and_(
        seen.c.platform_event_id == bindparam("event_id"),
        seen.c.conversation_id == _CONVERSATIONS.c.id, seen.c.direction == "in"))
    return (select(*_VIEW_COLUMNS, seen.c.id.label("seen_id"),
                   seen.c.status.label("seen_status"), held.label("has_held"))
            .select_from(found)
            .where(_CONVERSATIONS.c.channel == bindparam("channel"),
                   _CONVERSATIONS.c.account == bindparam("account"),
                   _CONVERSATIONS.c.user_id == bindparam("user_id"))
            .order_by(seen.c.id).limit(1))


_OPEN_INBOUND = _open_inbound_statement()
_VIEW_WIDTH = len(_VIEW_COLUMNS)  # then seen_id, seen_status, has_held
_INSERT_INBOUND = insert(_MESSAGES)
_FINISH_SEEN = (update(_MESSAGES).where(_MESSAGES.c.id == bindparam("row_id"))
                .values(status="handled", media_id=bindparam("new_media_id")))


def _touch_conversation_statement() -> Update:
    """A message came in: one more unread, following unless it was an unfollow, and
    the last inbound time moves forward (never back: events may arrive late)."""
    last = _CONVERSATIONS.c.last_inbound_at
    at = bindparam("at_time", type_=last.type)
    return (update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("conv_id"))
            .values(unread=_CONVERSATIONS.c.unread + 1, followed=bindparam("now_following"),
                    last_inbound_at=case((or_(last.is_(None), last < at), at), else_=last)))


_TOUCH_CONVERSATION = _touch_conversation_statement()


@dataclass(frozen=True)
class InboundStart:
    """What the worker needs to know before handling an inbound event.

    ``conversation`` is as it will be once the event is recorded (its last inbound
    time already counts the event). ``seen`` is the event's row when an earlier
    attempt recorded it, with ``handled`` telling whether that attempt finished.
    ``has_held`` says updates are waiting for the customer to write (Messenger)."""

    conversation: ConversationView
    seen: int | None
    handled: bool
    has_held: bool


@dataclass(frozen=True)
class InboundRecord:
    message_id: int
    already_handled: bool
    conversation: ConversationView  # as it is after this message (last inbound time)


class ConversationService:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._open_inbound: PreparedRead | None = None  # compiled on first use

    def ensure(self, key: ConversationKey, display_name: str | None = None) -> ConversationView:
        """The conversation for ``key``, created on first contact."""
        where = (Conversation.channel == key.channel.value, Conversation.account == key.account,
                 Conversation.user_id == key.user_id)
        for _ in range(5):
            try:
                with self._uow() as session:
                    conv = session.scalar(select(Conversation).where(*where))
                    if conv is None:
                        conv = Conversation(channel=key.channel.value, account=key.account,
                                            user_id=key.user_id,
                                            short_id=_short_id(), display_name=display_name or "")
                        session.add(conv)
                        session.flush()
                    elif display_name and conv.display_name != display_name:
                        conv.display_name = display_name
                    return _view(conv)
            except IntegrityError:
                continue  # created concurrently, or a short id collided: look again
        raise RuntimeError(f"could not create conversation {key.as_str()}")

    def get(self, conversation_id: int) -> ConversationView:
        with self._uow.read() as session:
            conv = session.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound(f"找不到對話 #{conversation_id}", field="conversation")
            return _view(conv)

    def find(self, text: str) -> ConversationView | None:
        """By short id (as shown to merchants)."""
        with self._uow.read() as session:
            conv = session.scalar(
                select(Conversation).where(Conversation.short_id == text.strip().lower())
            )
            return _view(conv) if conv else None

    def recent(self, query: str = "", limit: int = 10) -> list[ConversationView]:
        with self._uow.read() as session:
            stmt = select(Conversation).order_by(
                Conversation.last_inbound_at.desc().nulls_last(), Conversation.id.desc()
            ).limit(limit)
            if query:
                like = f"%{query.strip()}%"
                stmt = stmt.where(or_(Conversation.display_name.ilike(like),
                                      Conversation.short_id == query.strip().lower()))
            return [_view(c) for c in session.scalars(stmt)]

    def link_customer(self, conversation_id: int, customer_id: int) -> None:
        with self._uow() as session:
            session.execute(update(Conversation).where(Conversation.id == conversation_id)
                            .values(customer_id=customer_id))

    def record_inbound(
        self, conversation_id: int, *, event_id: str, kind: str, text: str = "",
        payload: dict | None = None, at: datetime | None = None,
    ) -> InboundRecord:
        """Record an inbound message once; a repeat returns the first record."""
        at = at or datetime.now(timezone.utc)
        with self._uow() as session:
            existing = session.scalar(select(ChatMessage).where(
                ChatMessage.conversation_id == conversation_id,
                ChatMessage.direction == "in", ChatMessage.platform_event_id == event_id))
            conv = session.get(Conversation, conversation_id)
            if existing is not None:
                return InboundRecord(existing.id, existing.status == "handled", _view(conv))
            message = ChatMessage(conversation_id=conversation_id, direction="in", kind=kind,
                                  text=text, payload=payload, platform_event_id=event_id,
                                  status="received", created_at=at)
            session.add(message)
            if conv.last_inbound_at is None or conv.last_inbound_at < at:
                conv.last_inbound_at = at
            conv.unread = Conversation.unread + 1
            conv.followed = kind != "unfollow"
            session.flush()
            return InboundRecord(message.id, False, _view(conv))

    def open_inbound(self, key: ConversationKey, event_id: str, at: datetime) -> InboundStart:
        """Everything the worker reads before handling ``event_id``, in one read.

        Takes no write lock: on the hot path the event is written once, with its
        replies (``handled_parts``). Only a first contact writes here (the
        conversation is created)."""
        if self._open_inbound is None:
            self._open_inbound = self._uow.prepared(_OPEN_INBOUND)
        row = self._open_inbound.first({
            "channel": key.channel.value, "account": key.account, "user_id": key.user_id,
            "event_id": event_id})
        if row is None:
            view, seen_id, handled, has_held = self.ensure(key), None, False, False
        else:
            view = ConversationView(*row[:_VIEW_WIDTH])
            seen_id, seen_status, held = row[_VIEW_WIDTH:]
            handled, has_held = seen_status == "handled", bool(held)
        if view.last_inbound_at is None or view.last_inbound_at < at:
            view = replace(view, last_inbound_at=at)
        return InboundStart(view, seen_id, handled, has_held)

    def handled_parts(
        self, conversation_id: int, *, event_id: str, kind: str, text: str = "",
        payload: dict | None = None, at: datetime, media_id: int | None = None,
        seen: int | None = None,
    ) -> list[Rows]:
        """The writes that record an inbound message as handled, for the caller to
        make in its transaction (the dispatcher's, with the replies: see
        ``SharedWrites.run_rows``, which sends the same statement of many turns as
        one).

        ``seen`` is the row an earlier, failed attempt recorded (``open_inbound``
        says so); it is finished instead of a second row being added."""
        if seen is not None:
            return [Rows(_FINISH_SEEN, [{"row_id": seen, "new_media_id": media_id}])]
        return [
            Rows(_INSERT_INBOUND, [{
                "conversation_id": conversation_id, "direction": "in", "kind": kind,
                "text": text, "payload": payload, "platform_event_id": event_id,
                "status": "handled", "created_at": at, "media_id": media_id, "error": "",
                "written_by_human": False}]),
            Rows(_TOUCH_CONVERSATION, [{"conv_id": conversation_id, "at_time": at,
                                        "now_following": kind != "unfollow"}]),
        ]

    def mark_auto_replied(self, conversation_id: int, at: datetime) -> None:
        with self._uow() as session:
            session.execute(update(Conversation).where(Conversation.id == conversation_id)
                            .values(last_auto_reply_at=at))

    def history(self, conversation_id: int, limit: int = 200) -> list[ChatMessage]:
        with self._uow.read() as session:
            rows = session.scalars(select(ChatMessage).where(
                ChatMessage.conversation_id == conversation_id
            ).order_by(ChatMessage.id.desc()).limit(limit)).all()
            return list(reversed(rows))

    def count(self) -> int:
        with self._uow.read() as session:
            return session.scalar(select(func.count(Conversation.id))) or 0


def _short_id() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(6))

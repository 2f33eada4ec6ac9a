"""Bindings: a shop visitor's browser linked to a chat conversation, durably.

A binding by itself only lets the shop message that chat about that visitor's
cart; it never makes the chat user a member or shows them member data. A member
link is a second, explicit step: the shop vouches for its member with a signed
token when asking for the code, and the shopper confirms on the web page that
the chat name which sent the code is theirs (a code can be read over a
shoulder). Only then is the conversation linked to the customer record.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.contact import normalize_email, normalize_tw_mobile
from commerce.conversations import Conversation
from commerce.customers import Customer
from commerce.errors import Conflict, NotFound, ValidationError
from commerce.records import Binding
from commerce.services.uow import UnitOfWork

#: Member tokens may not be valid for longer than this (the shop mints one per page view).
MAX_TOKEN_LIFETIME = timedelta(days=1)
_TOKEN_SHAPE = re.compile(
    r"(?P<member>[^\s]{1,120})\.(?P<expires>[0-9]{1,12})\.(?P<sig>[0-9a-f]{64})")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _member(session: Session, member_ref: str) -> int | None:
    """The customer a member reference names, read in the caller's transaction."""
    if member_ref.startswith("#") and member_ref[1:].isdigit():
        return session.scalar(select(Customer.id).where(Customer.id == int(member_ref[1:])))
    contacts = []
    for normalise in (normalize_tw_mobile, normalize_email):
        try:
            contacts.append(normalise(member_ref))
        except ValidationError:
            continue
    if not contacts:
        return None
    return session.scalar(select(Customer.id).where(
        or_(Customer.phone.in_(contacts), Customer.email.in_(contacts))))


@dataclass(frozen=True)
class BindingView:
    id: int
    visitor_id: str
    conversation_id: int
    customer_id: int | None
    member_ref: str | None
    member_confirmed_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class BindResult:
    binding: BindingView
    created: bool


def _view(row: Binding) -> BindingView:
    return BindingView(row.id, row.visitor_id, row.conversation_id, row.customer_id,
                       row.member_ref, row.member_confirmed_at, row.revoked_at)


class MemberTokenError(ValidationError):
    """Why a member token was refused: ``reason`` is malformed, forged or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"member token refused: {reason}", field="member_token")
        self.reason = reason


def sign_member_token(secret: str, member_id: str, expires: int) -> str:
    """``<member id>.<expiry, unix seconds>.<hex HMAC-SHA256 of "<member id>.<expiry>">``."""
    message = f"{member_id}.{expires}".encode()
    return f"{member_id}.{expires}." + hmac.new(secret.encode(), message,
                                                hashlib.sha256).hexdigest()


def verify_member_token(token: str, secret: str | None, now: datetime) -> str:
    """The member id a token vouches for; raises ``MemberTokenError`` otherwise."""
    if not secret:
        raise MemberTokenError("disabled")
    match = _TOKEN_SHAPE.fullmatch(token or "")
    if match is None:
        raise MemberTokenError("malformed")
    member, expires = match["member"], int(match["expires"])
    expected = sign_member_token(secret, member, expires).rsplit(".", 1)[1]
    if not hmac.compare_digest(expected, match["sig"]):
        raise MemberTokenError("forged")
    moment = datetime.fromtimestamp(expires, tz=timezone.utc)
    if moment <= now or moment - now > MAX_TOKEN_LIFETIME:
        raise MemberTokenError("expired")
    return member


class BindingService:
    def __init__(self, uow: UnitOfWork, clock: Callable[[], datetime] = _utcnow) -> None:
        self._uow = uow
        self._clock = clock

    def bind(self, visitor_id: str, conversation_id: int, *,
             member_ref: str | None = None) -> BindResult:
        """Link ``visitor_id`` to the conversation; a pair already linked stays one row."""
        for _ in range(3):
            try:
                with self._uow() as session:
                    row = session.scalar(select(Binding).where(
                        Binding.visitor_id == visitor_id,
                        Binding.conversation_id == conversation_id))
                    created = row is None or row.revoked_at is not None
                    if row is None:
                        row = Binding(visitor_id=visitor_id, conversation_id=conversation_id)
                        session.add(row)
                    elif row.revoked_at is not None:
                        row.revoked_at, row.member_confirmed_at, row.customer_id = None, None, None
                    if member_ref and row.member_confirmed_at is None:
                        row.member_ref = member_ref
                    session.flush()
                    return BindResult(_view(row), created)
            except IntegrityError:
                continue  # the same pair bound concurrently: read it again
        raise Conflict("綁定暫時無法完成，請再試一次", field="binding")

    def is_bound(self, visitor_id: str, conversation_id: int) -> bool:
        with self._uow() as session:
            return session.scalar(select(Binding.id).where(
                Binding.visitor_id == visitor_id, Binding.conversation_id == conversation_id,
                Binding.revoked_at.is_(None))) is not None

    def get(self, binding_id: int) -> BindingView:
        with self._uow() as session:
            row = session.get(Binding, binding_id)
            if row is None:
                raise NotFound(f"找不到綁定 #{binding_id}", field="binding")
            return _view(row)

    def for_visitor(self, visitor_id: str) -> list[BindingView]:
        with self._uow() as session:
            rows = session.scalars(select(Binding).where(
                Binding.visitor_id == visitor_id, Binding.revoked_at.is_(None))
                .order_by(Binding.id))
            return [_view(r) for r in rows]

    def resolve_member(self, member_ref: str) -> int | None:
        """A customer by the shop's member reference: ``#<id>``, a phone or an e-mail."""
        with self._uow() as session:
            return _member(session, member_ref)

    def confirm_member(self, binding_id: int) -> BindingView:
        """The shopper confirmed on the page: link the conversation to the member."""
        with self._uow() as session:
            row = session.get(Binding, binding_id)
            if row is None or row.revoked_at is not None:
                raise NotFound("這個綁定已不存在", field="binding")
            if not row.member_ref:
                raise ValidationError("這個綁定沒有會員資料可確認", field="member")
            if row.member_confirmed_at is None:
                customer_id = _member(session, row.member_ref)
                if customer_id is None:
                    raise NotFound("找不到這位會員", field="member")
                row.customer_id, row.member_confirmed_at = customer_id, self._clock()
                session.execute(update(Conversation)
                                .where(Conversation.id == row.conversation_id)
                                .values(customer_id=customer_id))
            return _view(row)

    def revoke(self, binding_id: int) -> BindingView:
        """Undo ("不是你?"): the visitor is unlinked, and so is a member it had linked."""
        with self._uow() as session:
            row = session.get(Binding, binding_id)
            if row is None:
                raise NotFound(f"找不到綁定 #{binding_id}", field="binding")
            if row.revoked_at is None:
                row.revoked_at = self._clock()
                if row.customer_id is not None:
                    session.execute(update(Conversation).where(
                        Conversation.id == row.conversation_id,
                        Conversation.customer_id == row.customer_id).values(customer_id=None))
            return _view(row)

    def ensure_customer(self, conversation_id: int, name: str) -> int:
        """The conversation's customer record, created (named ``name``) on first need,
        e.g. when a merchant writes the first order for a chat."""
        with self._uow() as session:
            conv = session.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound(f"找不到對話 #{conversation_id}", field="conversation")
            if conv.customer_id is not None:
                return conv.customer_id
            customer = Customer(name=name.strip()[:120] or conv.short_id)
            session.add(customer)
            session.flush()
            conv.customer_id = customer.id
            return customer.id

    def conversation_for_customer(self, customer_id: int) -> int | None:
        """The customer's most recently active conversation, for reaching them in chat."""
        with self._uow() as session:
            return session.scalar(
                select(Conversation.id).where(Conversation.customer_id == customer_id)
                .order_by(Conversation.last_inbound_at.desc().nulls_last(),
                          Conversation.id.desc()).limit(1))

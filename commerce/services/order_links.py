"""Links to the customer's order page: ``/o/<token>``.

The token is 256 random bits shown once and stored only as a SHA-256 hash, so the
database cannot be used to open anyone's order. Sending the order again replaces
the link (the old one stops working); a merchant can revoke it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from sqlalchemy import select, update

from commerce.records import OrderLink
from commerce.services.uow import UnitOfWork


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OrderLinkService:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def issue(self, order_id: int, *, expires_at: datetime | None = None) -> str:
        """A new token for the order; every earlier token of it is revoked."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc)
        with self._uow() as session:
            session.execute(update(OrderLink).where(OrderLink.order_id == order_id,
                                                    OrderLink.revoked_at.is_(None))
                            .values(revoked_at=now))
            session.add(OrderLink(order_id=order_id, token_hash=_hash(token),
                                  expires_at=expires_at))
        return token

    def resolve(self, token: str) -> int | None:
        """The order a live token opens, or None (unknown, revoked or expired)."""
        if not token or len(token) > 100:
            return None
        now = datetime.now(timezone.utc)
        with self._uow.read() as session:
            link = session.scalar(select(OrderLink).where(OrderLink.token_hash == _hash(token)))
            if link is None or link.revoked_at is not None:
                return None
            if link.expires_at is not None and link.expires_at <= now:
                return None
            return link.order_id

    def revoke(self, order_id: int) -> int:
        with self._uow() as session:
            return session.execute(
                update(OrderLink).where(OrderLink.order_id == order_id,
                                        OrderLink.revoked_at.is_(None))
                .values(revoked_at=datetime.now(timezone.utc))
            ).rowcount

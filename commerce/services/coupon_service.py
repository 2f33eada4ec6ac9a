"""Coupon usage: how often each code has been used, and by whom.

A use is counted when the customer confirms the order (or, at the latest, when it
is paid) and given back when the order is cancelled or expires. Counting at
confirmation rather than at the draft keeps a merchant's unsent drafts from using
up a limited coupon, and the price the customer confirmed is the one they keep.

Limits hold under concurrency without trusting what was read earlier:

- the total limit is a conditional ``UPDATE coupon_counters SET used = used + 1
  WHERE used < limit``: of two confirmations racing for the last use, one updates
  the row and the other updates nothing and is refused;
- the per-customer limit locks the customer's row (``SELECT ... FOR UPDATE``;
  SQLite already serialises writers) before counting that customer's uses, so one
  buyer confirming two orders at once cannot slip past it.

An order holds a code at most once (unique in ``coupon_usages``), so repeating a
confirmation or a cancellation never counts or releases twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce.customers import Customer
from commerce.errors import Conflict
from commerce.orders import Order
from commerce.pricing import (
    CartLine,
    CouponOption,
    CouponUsage,
    PricingRules,
    coupon_options,
    normalize_coupon_code,
)
from commerce.records import CouponCounter
from commerce.records import CouponUsage as UsageRow
from commerce.services.uow import UnitOfWork

COUNTED = "counted"
RELEASED = "released"


class CouponService:
    """Usage counts for the pricing engine, and counting/releasing uses of orders.

    Methods that take ``session`` run inside the caller's transaction (the order
    service's), so the count and the order's status change commit together.
    """

    def __init__(self, uow: UnitOfWork, rules: PricingRules) -> None:
        self._uow = uow
        self._rules = rules

    def usage(
        self, code: str, customer_id: int | None = None, *, session: Session | None = None
    ) -> tuple[int, int]:
        """``(total_used, used_by_customer)`` for ``code``, as the engine's input."""
        code = normalize_coupon_code(code)
        with joined(self._uow, session) as s:
            return _total(s, code), _by_customer(s, customer_id).get(code, 0)

    def options(
        self,
        session: Session,
        cart: Sequence[CartLine],
        customer_id: int | None,
        now: datetime,
    ) -> list[CouponOption]:
        """Every configured coupon with whether this cart may use it, and why not."""
        totals = {
            code: used
            for code, used in session.execute(select(CouponCounter.coupon_code, CouponCounter.used))
        }
        mine = _by_customer(session, customer_id)
        usage = {
            c.code: CouponUsage(totals.get(c.code, 0), mine.get(c.code, 0))
            for c in self._rules.coupons
        }
        return coupon_options(self._rules.coupons, cart, usage, now, self._rules)

    def count(self, session: Session, order: Order) -> bool:
        """Count the order's coupon once; refuse (``Conflict``) when a limit is used up.

        Returns whether a use was added (False: no coupon, or counted before).
        """
        code = order.coupon_code
        if not code or _held(session, code, order.id):
            return False
        definition = self._rules.coupon(code)
        per_customer = definition.per_customer_limit if definition else None
        if per_customer is not None:
            session.execute(
                select(Customer.id).where(Customer.id == order.customer_id).with_for_update()
            )
            if _by_customer(session, order.customer_id).get(code, 0) >= per_customer:
                raise Conflict(
                    f"優惠碼 {code} 每人限用 {per_customer} 次，已用完；請店家重新報價",
                    field="coupon",
                )
        if not _bump(session, code, definition.total_limit if definition else None):
            raise Conflict(f"優惠碼 {code} 已被用完；請店家重新報價", field="coupon")
        session.add(UsageRow(coupon_code=code, customer_id=order.customer_id, order_id=order.id))
        session.flush()
        return True

    def release(self, session: Session, order: Order) -> bool:
        """Give back the use the order counted, if any; True when one was released."""
        rows = session.scalars(
            select(UsageRow).where(UsageRow.order_id == order.id, UsageRow.status == COUNTED)
        ).all()
        released = False
        for row in rows:
            claimed = session.execute(
                update(UsageRow)
                .where(UsageRow.id == row.id, UsageRow.status == COUNTED)
                .values(status=RELEASED)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed:
                session.execute(
                    update(CouponCounter)
                    .where(CouponCounter.coupon_code == row.coupon_code, CouponCounter.used > 0)
                    .values(used=CouponCounter.used - 1)
                    .execution_options(synchronize_session=False)
                )
                released = True
        return released



@contextmanager
def joined(uow: UnitOfWork, session: Session | None) -> Iterator[Session]:
    """The caller's session when there is one, else a unit of work of our own."""
    if session is not None:
        yield session
        return
    with uow() as own:
        yield own


def _total(session: Session, code: str) -> int:
    used = session.scalar(select(CouponCounter.used).where(CouponCounter.coupon_code == code))
    return used or 0


def _by_customer(session: Session, customer_id: int | None) -> dict[str, int]:
    if customer_id is None:
        return {}
    rows = session.execute(
        select(UsageRow.coupon_code, func.count())
        .where(UsageRow.customer_id == customer_id, UsageRow.status == COUNTED)
        .group_by(UsageRow.coupon_code)
    )
    return {code: used for code, used in rows}


def _held(session: Session, code: str, order_id: int) -> bool:
    return session.scalar(
        select(UsageRow.id).where(UsageRow.coupon_code == code, UsageRow.order_id == order_id)
    ) is not None


def _bump(session: Session, code: str, limit: int | None) -> bool:
    """Add one use unless that would pass ``limit``; False when the limit is reached."""
    stmt = update(CouponCounter).where(CouponCounter.coupon_code == code)
    if limit is not None:
        stmt = stmt.where(CouponCounter.used < limit)
    stmt = stmt.values(used=CouponCounter.used + 1).execution_options(synchronize_session=False)
    if session.execute(stmt).rowcount:
        return True
    if session.scalar(select(CouponCounter.used).where(CouponCounter.coupon_code == code)) \
            is not None:
        return False
    try:
        with session.begin_nested():
            session.add(CouponCounter(coupon_code=code, used=1))
    except IntegrityError:
        # Another transaction created the counter first; bump the row it made.
        return _bump(session, code, limit)
    return True

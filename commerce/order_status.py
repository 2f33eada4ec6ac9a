"""The order lifecycle as a plain table of allowed moves.

draft -> sent -> confirmed -> awaiting_payment -> proof_submitted -> paid -> shipped
-> completed; cancelled and expired end an order early; a rejected proof sends the
order from proof_submitted back to awaiting_payment; methods that collect payment
on delivery (cash on delivery, pay at pickup) go from confirmed straight to shipped.
"""

from __future__ import annotations

import enum


class OrderStatus(str, enum.Enum):
    DRAFT = "draft"
    SENT = "sent"
    CONFIRMED = "confirmed"
    AWAITING_PAYMENT = "awaiting_payment"
    PROOF_SUBMITTED = "proof_submitted"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


S = OrderStatus

ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.DRAFT: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.SENT, S.CONFIRMED, S.CANCELLED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.AWAITING_PAYMENT, S.SHIPPED, S.CANCELLED}),
    S.AWAITING_PAYMENT: frozenset({S.PROOF_SUBMITTED, S.PAID, S.CANCELLED, S.EXPIRED}),
    S.PROOF_SUBMITTED: frozenset({S.PROOF_SUBMITTED, S.PAID, S.AWAITING_PAYMENT, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}

#: Statuses in which the order still holds stock reservations.
HOLDS_STOCK = frozenset(set(OrderStatus) - {S.CANCELLED, S.EXPIRED})

LABELS_ZH = {
    S.DRAFT: "草稿",
    S.SENT: "待確認",
    S.CONFIRMED: "已確認",
    S.AWAITING_PAYMENT: "待付款",
    S.PROOF_SUBMITTED: "等待商家核對",
    S.PAID: "已付款",
    S.SHIPPED: "已出貨",
    S.COMPLETED: "已完成",
    S.CANCELLED: "已取消",
    S.EXPIRED: "已逾期",
}


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ALLOWED_MOVES[current]

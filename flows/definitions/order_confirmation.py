"""Order-confirmation flow: the customer taps "確認訂單" on an order card.

The card is the long wait (it sits in the chat for days, and the order's own
deadline lives in SQL where the order-expiry sweeper finds it), so this is an
instant flow: it lives for one tap. It starts at ``tapped`` and ``confirm`` ends
it in a final state chosen from the facts at the moment of the tap. Every state but
``confirmed`` changes nothing, which is what makes duplicate taps, taps on an
old card and taps on a closed order harmless. The postback carries the card's
version; a newer card for the same order makes this one stale.

    tapped --confirm[no such order]----------> closed
    tapped --confirm[a newer card exists]----> stale_card
    tapped --confirm[order sent, unconfirmed]-> confirmed   (order.confirm; next step)
    tapped --confirm[already confirmed]------> already_confirmed
    tapped --confirm-------------------------> closed       (cancelled, expired, ...)
"""

from __future__ import annotations

from typing import Any

from commerce.errors import NotFound
from commerce.order_status import OrderStatus
from flows.definitions.messages import text
from flows.definitions.order_messages import next_step, status_label
from flows.engine import FlowContext, FlowDefinition, StateSpec, TransitionSpec

NAME = "order_confirmation"
CONFIRM = "confirm"
S = OrderStatus
CONFIRMED_OR_LATER = frozenset({S.CONFIRMED, S.AWAITING_PAYMENT, S.PROOF_SUBMITTED, S.PAID,
                                S.SHIPPED, S.COMPLETED})


def postback_data(number: str, card_version: str) -> str:
    """What the card's confirm button carries (well under the 300-character limit)."""
    return f"order.{CONFIRM}:{number}:{card_version}"


def _order(ctx: FlowContext) -> Any:
    try:
        return ctx.services.orders.get(str(ctx.payload["number"]))
    except NotFound:
        return None


def order_missing(ctx: FlowContext) -> bool:
    return _order(ctx) is None


def card_is_stale(ctx: FlowContext) -> bool:
    current = ctx.services.cards.current(str(ctx.payload["number"]))
    return current is not None and current.version != ctx.payload.get("card")


def awaiting_confirmation(ctx: FlowContext) -> bool:
    return _order(ctx).status is S.SENT


def already_confirmed(ctx: FlowContext) -> bool:
    return _order(ctx).status in CONFIRMED_OR_LATER


def confirm(ctx: FlowContext) -> None:
    ctx.command("order.confirm", number=str(ctx.payload["number"]))


def say_next_step(ctx: FlowContext) -> None:
    ctx.say(next_step(ctx.services, _order(ctx), ctx.now))


def say_already(ctx: FlowContext) -> None:
    t = ctx.services.texts
    order = _order(ctx)
    ctx.say(text(t("訂單 {number} 已經確認過了，目前狀態：{status}。", number=order.number,
                   status=status_label(t, order.status))))


def say_stale(ctx: FlowContext) -> None:
    t = ctx.services.texts
    ctx.say(text(t("這是訂單 {number} 較舊的訂單訊息，請使用最新傳送的訂單確認。",
                   number=ctx.payload["number"])))


def say_closed(ctx: FlowContext) -> None:
    t = ctx.services.texts
    order = _order(ctx)
    if order is None:
        ctx.say(text(t("找不到訂單 {number}。", number=ctx.payload["number"])))
        return
    ctx.say(text(t("訂單 {number} 目前為「{status}」，無法確認。如需協助請直接留言給我們。",
                   number=order.number, status=status_label(t, order.status))))


def order_confirmation_flow() -> FlowDefinition:
    return FlowDefinition(
        name=NAME,
        version=1,
        initial="tapped",
        states=(
            StateSpec("tapped"),
            StateSpec("confirmed", final=True),
            StateSpec("already_confirmed", final=True),
            StateSpec("stale_card", final=True),
            StateSpec("closed", final=True),
        ),
        transitions=(
            TransitionSpec(CONFIRM, "tapped", "closed", conditions=("order_missing",),
                           actions=("say_closed",)),
            TransitionSpec(CONFIRM, "tapped", "stale_card", conditions=("card_is_stale",),
                           actions=("say_stale",)),
            TransitionSpec(CONFIRM, "tapped", "confirmed", conditions=("awaiting_confirmation",),
                           actions=("confirm", "say_next_step")),
            TransitionSpec(CONFIRM, "tapped", "already_confirmed",
                           conditions=("already_confirmed",), actions=("say_already",)),
            TransitionSpec(CONFIRM, "tapped", "closed", actions=("say_closed",)),
        ),
        guards={
            "order_missing": order_missing,
            "card_is_stale": card_is_stale,
            "awaiting_confirmation": awaiting_confirmation,
            "already_confirmed": already_confirmed,
        },
        actions={
            "confirm": confirm,
            "say_next_step": say_next_step,
            "say_already": say_already,
            "say_stale": say_stale,
            "say_closed": say_closed,
        },
    )

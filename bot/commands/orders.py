"""Order commands: show, list, verify, reject, ship, cancel, resend (and create)."""

from __future__ import annotations

from bot.commands.context import CommandDeps, Handler, actor, answer, tell_customer
from bot.commands.order_create import create_order
from bot.commands.parser import Invocation, UsageError
from bot.routing import InboundContext, Reply
from commerce.order_status import LABELS_ZH, OrderStatus
from commerce.services.order_views import OrderView
from flows.definitions.messages import buttons, text
from flows.definitions.order_messages import payment_actions

LIST_LIMIT = 20


def _number(inv: Invocation, name: str, words: int = 1) -> str:
    if len(inv.words) < words:
        raise UsageError(name)
    return inv.words[0].lstrip("#")


def _unreached(order: OrderView) -> str:
    return "" if order.conversation_id else "（此訂單沒有聊天對話，未通知顧客）"


def order(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    if len(inv.words) == 1:
        return [answer(_details(deps, deps.orders.get(inv.words[0])))]
    if len(inv.words) < 2:
        raise UsageError("order")
    return create_order(deps, ctx, inv)


def _details(deps: CommandDeps, order: OrderView) -> str:
    money = deps.services.texts.money
    lines = [f"訂單 {order.number}｜{order.status_label}",
             f"顧客：{order.customer_name}"]
    if order.conversation_id:
        lines.append(f"對話：{deps.conversations.get(order.conversation_id).label}")
    lines += [f"・{' '.join(filter(None, (i.name, i.variant_label)))} ×{i.quantity} "
              f"{money(i.line_total)}" for i in order.items]
    lines.append(f"總計 {money(order.total)}（運費 {money(order.shipping_fee)}）")
    lines.append(f"配送 {order.delivery_method}，付款 {order.payment_method}")
    if order.tracking_number:
        lines.append(f"物流單號 {order.tracking_number}")
    if order.note:
        lines.append(f"備註：{order.note}")
    return "\n".join(lines)


def _status(word: str) -> OrderStatus:
    for status in OrderStatus:
        if word.lower() == status.value or word == LABELS_ZH[status]:
            return status
    known = "、".join(LABELS_ZH[s] for s in OrderStatus)
    raise UsageError("orders", f"不認得狀態「{word}」；可用：{known}")


def list_orders(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    if len(inv.words) > 1:
        raise UsageError("orders")
    status = _status(inv.words[0]) if inv.words else None
    found = deps.orders.list(status=status, limit=LIST_LIMIT)
    if not found:
        return [answer("沒有符合的訂單。")]
    money = deps.services.texts.money
    return [answer("\n".join(f"{o.number} {o.status_label} {o.customer_name} {money(o.total)}"
                             for o in found))]


def verify(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    number = _number(inv, "verify")
    if len(inv.words) != 1:
        raise UsageError("verify")
    result = deps.orders.verify_payment(number, actor=actor(ctx))
    if not result.changed:
        return [answer(f"訂單 {number} 已是「{result.order.status_label}」，不需要再確認。")]
    t = deps.services.texts
    said = [text(t("訂單 {number} 已確認收款，謝謝！我們會盡快為你出貨。", number=number))]
    return [*tell_customer(result.order, said),
            answer(f"訂單 {number} 已改為已付款。{_unreached(result.order)}")]


def reject(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    number = _number(inv, "reject", words=2)
    reason = inv.after(1)
    updated = deps.orders.reject_proof(number, reason, actor=actor(ctx))
    t = deps.services.texts
    body = t("訂單 {number} 的轉帳證明未通過核對：{reason}。請確認後重新上傳轉帳證明。",
             number=number, reason=reason)
    said = [buttons(body, payment_actions(deps.services, number))]
    return [*tell_customer(updated, said),
            answer(f"訂單 {number} 已退回待付款，原因已告知顧客。{_unreached(updated)}")]


def ship(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    number = _number(inv, "ship")
    if len(inv.words) > 2:
        raise UsageError("ship")
    tracking = inv.words[1] if len(inv.words) == 2 else None
    shipped = deps.orders.ship(number, actor=actor(ctx), tracking=tracking)
    t = deps.services.texts
    body = t("訂單 {number} 已出貨！", number=number)
    if tracking:
        body += "\n" + t("物流單號：{tracking}", tracking=tracking)
    return [*tell_customer(shipped, [text(body)]),
            answer(f"訂單 {number} 已出貨。{_unreached(shipped)}")]


def cancel(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    number = _number(inv, "cancel")
    if len(inv.words) != 1:
        raise UsageError("cancel")
    result = deps.orders.cancel(number, actor=actor(ctx))
    if not result.changed:
        return [answer(f"訂單 {number} 已經是取消狀態。")]
    t = deps.services.texts
    said = [text(t("訂單 {number} 已取消。如有疑問請直接留言給我們。", number=number))]
    return [*tell_customer(result.order, said),
            answer(f"訂單 {number} 已取消，庫存已釋出。{_unreached(result.order)}")]


def resend(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    number = _number(inv, "resend")
    if len(inv.words) != 1:
        raise UsageError("resend")
    current = deps.orders.get(number)
    if current.status is not OrderStatus.SENT or current.conversation_id is None:
        return [answer(f"訂單 {number} 目前為「{current.status_label}」，只有待確認且有聊天對話的"
                       f"訂單可以重新傳送。")]
    sent = deps.orders.send(number, actor=actor(ctx))
    return [deps.cards.reply(sent), answer(f"已重新傳送訂單 {number}，之前的訂單訊息已失效。")]


HANDLERS: dict[str, Handler] = {
    "order": order,
    "orders": list_orders,
    "verify": verify,
    "reject": reject,
    "ship": ship,
    "cancel": cancel,
    "resend": resend,
}

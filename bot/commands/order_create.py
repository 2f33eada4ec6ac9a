"""``/order <customer> <sku>*<qty> ... [ship=] [pay=] [note=]``: build, send, show the card."""

from __future__ import annotations

from bot.commands.context import CommandDeps, actor, answer
from bot.commands.parser import Invocation, UsageError
from bot.commands.targets import customer_id_of, resolve
from bot.routing import InboundContext, Reply
from commerce.delivery import is_store_pickup
from commerce.errors import NotFound
from commerce.services.order_requests import LineRequest, OrderRequest


def _note(inv: Invocation, index: int) -> str:
    """Everything after ``note=``, spacing and punctuation as typed."""
    remainder = inv.after(index)
    parts = remainder.split(maxsplit=1)
    first = inv.words[index][len("note="):]
    return " ".join(p for p in (first, parts[1] if len(parts) > 1 else "") if p).strip()


def read_terms(inv: Invocation) -> tuple[tuple[LineRequest, ...], dict[str, str]]:
    """The lines and the ``ship``/``pay``/``note`` options after ``<customer>``."""
    quantities: dict[str, int] = {}
    options: dict[str, str] = {}
    for index in range(1, len(inv.words)):
        word = inv.words[index]
        key, sep, value = word.partition("=")
        if sep and key.lower() == "note":
            options["note"] = _note(inv, index)
            break
        if sep and key.lower() in ("ship", "pay") and value:
            options[key.lower()] = value
            continue
        sku, star, count = word.partition("*")
        if not star or not sku or not count.isdigit() or int(count) < 1:
            raise UsageError("order",
                             f"看不懂「{word}」：商品請寫成 商品編號*數量，例如 TEA-OOLONG*2")
        quantities[sku] = quantities.get(sku, 0) + int(count)
    if not quantities:
        raise UsageError("order", "至少需要一項商品")
    return tuple(LineRequest(sku, qty) for sku, qty in quantities.items()), options


def _check(deps: CommandDeps, lines: tuple[LineRequest, ...], options: dict[str, str]) -> None:
    """Refuse unknown products and methods before anything is written (a chat without
    a customer record would otherwise get one for an order that never existed)."""
    for line in lines:
        deps.catalog.variant_by_sku(line.sku)
    for key, methods, what in (("ship", deps.services.delivery_methods, "配送方式"),
                               ("pay", deps.services.payment_methods, "付款方式")):
        code = options.get(key)
        if code is not None and code not in methods:
            known = "、".join(methods)
            raise UsageError("order", f"未知的{what}代碼 {code}；可用：{known}")


def create_order(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    target = resolve(deps, inv.words[0])
    lines, options = read_terms(inv)
    conv = target.conversation
    if conv is None:
        raise NotFound(f"{target.label} 還沒有聊天對話，無法傳送訂單")
    _check(deps, lines, options)
    customer_id = customer_id_of(deps, target)
    by = actor(ctx)
    ship = options.get("ship", deps.default_delivery)
    method = deps.services.delivery_methods.get(ship)
    delivery = deps.customers.saved_delivery(
        customer_id, store_pickup=method is not None and is_store_pickup(method))
    order = deps.orders.create(OrderRequest(
        customer_id=customer_id, conversation_id=conv.id, lines=lines,
        delivery_method=ship, payment_method=options.get("pay", deps.default_payment),
        delivery=delivery, note=options.get("note", ""),
    ), actor=by)
    order = deps.orders.send(order.number, actor=by)
    money = deps.services.texts.money
    return [
        deps.cards.reply(order),
        answer(f"已建立訂單 {order.number}（{conv.label}），總計 {money(order.total)}，"
               f"已傳送給顧客確認。"),
    ]

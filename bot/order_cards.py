"""The order card a customer confirms in the chat.

A card shows what the order page shows, in short: each item with its variant,
quantity and amount, the discounts, shipping, the total, and how it is delivered
and paid. Its two buttons open the order page ("查看訂單詳情") and confirm
("確認訂單"). Sending a card issues a fresh order-page link (the old one stops
working) and a new card version carried by the confirm button, so a tap on an
earlier card is recognised as stale.
"""

from __future__ import annotations

from typing import Any

from bot.messages import CardLine, OrderCard, PostbackAction, UrlAction
from bot.routing import Reply
from commerce.services.order_views import OrderView
from flows.definitions.order_confirmation import postback_data
from flows.definitions.services import CardRecord, FlowServices
from flows.definitions.stores import OrderCards
from flows.texts import Texts


def _summary(order: OrderView, t: Texts) -> list[tuple[str, str]]:
    pricing = order.pricing or {}
    rows = [(t("小計"), t.money(order.subtotal))]
    named = [(p["name"], p["amount"]) for p in pricing.get("promotions", ())
             if p.get("stage") != "shipping" and p.get("amount")]
    coupon = pricing.get("coupon")
    if coupon and coupon.get("applied") and coupon.get("amount"):
        named.append((t("優惠券 {code}", code=coupon["code"]), coupon["amount"]))
    named += [(d["name"], d["amount"]) for d in pricing.get("custom_discounts", ())
              if d.get("amount")]
    rows += [(name, t.money(-amount)) for name, amount in named]
    unnamed = order.discount_total - sum(amount for _, amount in named)
    if unnamed > 0:
        rows.append((t("折扣"), t.money(-unnamed)))
    if order.credit_used:
        rows.append((t("購物金折抵"), t.money(-order.credit_used)))
    rows.append((t("運費"), t.money(order.shipping_fee) if order.shipping_fee else t("免運")))
    tax = pricing.get("tax") or {}
    if tax.get("shown") and tax.get("mode") == "exclusive":
        rows.append((t("營業稅"), t.money(tax["amount"])))
    rows.append((t("確認即同意"), t("本店隱私權政策與服務條款")))
    return rows


def order_card(order: OrderView, services: FlowServices, card: CardRecord) -> OrderCard:
    t = services.texts
    lines = tuple(
        CardLine(item.name, item.variant_label or None, item.quantity,
                 t.money(item.line_total) if item.kind != "gift" else t("贈品"))
        for item in order.items
    )
    delivery = services.method_name(services.delivery_methods, order.delivery_method)
    payment = services.method_name(services.payment_methods, order.payment_method)
    page = f"{services.public_base_url}/o/{card.token}"
    return OrderCard(
        title=t("請確認您的訂單"),
        order_number=t("訂單編號 {number}", number=order.number),
        lines=lines,
        summary=tuple(_summary(order, t)),
        total_text=t("總計 {amount}", amount=t.money(order.total)),
        delivery_text=t("配送方式：{method}", method=delivery),
        payment_text=t("付款方式：{method}", method=payment),
        actions=(
            PostbackAction(t("確認訂單"), postback_data(order.number, card.version),
                           t("確認訂單")),
            UrlAction(t("查看訂單詳情"), page),
        ),
        alt_text=t("訂單 {number} 待確認，總計 {amount}", number=order.number,
                   amount=t.money(order.total)),
    )


class CardSender:
    """Issues the link and the card version, then builds the reply to the customer."""

    def __init__(self, order_links: Any, cards: OrderCards, services: FlowServices) -> None:
        self._links = order_links
        self._cards = cards
        self._services = services

    def reply(self, order: OrderView) -> Reply:
        """The card as an automated update, dropped if the order is no longer waiting
        for confirmation by the time Messenger's window lets it through."""
        token = self._links.issue(order.id)
        card = self._cards.issue(order.number, token)
        return Reply((order_card(order, self._services, card),),
                     conversation_id=order.conversation_id, automated_update=True,
                     applies_if={"order": order.number, "status": order.status.value})

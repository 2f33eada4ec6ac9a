"""What customers are told about an order, shared by the flows and the merchant
commands so a step reads the same whichever path led to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from commerce.order_status import LABELS_ZH, OrderStatus
from flows.definitions.messages import JsonDict, buttons, link, postback, text
from flows.definitions.services import FlowServices
from flows.texts import Texts

PROOF_START = "proof.start"


def status_label(texts: Texts, status: OrderStatus) -> str:
    """The status as the customer reads it (the labels are catalog msgids)."""
    return texts(LABELS_ZH[status])


def upload_proof_action(texts: Texts, number: str) -> JsonDict:
    return postback(texts("上傳轉帳證明"), f"{PROOF_START}:{number}", texts("上傳轉帳證明"))


def payment_actions(services: FlowServices, number: str) -> list[JsonDict]:
    """"去支付" (the order page's payment step) when a card was sent, then the upload."""
    t = services.texts
    actions = []
    pay_url = services.page_url(number, "/pay")
    if pay_url:
        actions.append(link(t("去支付"), pay_url))
    actions.append(upload_proof_action(t, number))
    return actions


def next_step(services: FlowServices, order: Any, now: datetime) -> JsonDict:
    """After the customer confirmed ``order``: ship and pay later, or pay now (and how)."""
    t = services.texts
    method = services.payment_methods.get(order.payment_method)
    amount = t.money(order.total)
    if method is not None and method.skips_payment:
        return text(t("訂單 {number} 已確認，謝謝！我們會盡快安排出貨，"
                      "請於取貨或收貨時付款 {amount}。", number=order.number, amount=amount))
    deadline = services.local_time(now + services.payment_deadline)
    if method is not None and method.needs_proof:
        body = t("訂單 {number} 已確認，謝謝！請於 {deadline} 前轉帳 {amount} 至 {bank}（{code}）"
                 "帳號 {account}，戶名 {holder}。轉帳後請上傳轉帳證明。",
                 number=order.number, deadline=deadline, amount=amount, bank=method.bank_name,
                 code=method.bank_code, account=method.account_number,
                 holder=method.account_name)
        return buttons(body, payment_actions(services, order.number))
    body = t("訂單 {number} 已確認，謝謝！請於 {deadline} 前依訂單頁的說明付款 {amount}。",
             number=order.number, deadline=deadline, amount=amount)
    pay_url = services.page_url(order.number, "/pay")
    return buttons(body, [link(t("去支付"), pay_url)]) if pay_url else text(body)

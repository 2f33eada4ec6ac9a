"""What the order page decides from an order: discount lines, the tax line, the
timeline and the next action; and that every page text has an English version."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from commerce.order_status import LABELS_ZH, OrderStatus
from commerce.services.order_views import EventView, ItemView, OrderView
from web.order_pages.presenter import present

S = OrderStatus
WEB = Path(__file__).resolve().parents[2] / "web"
AT = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def order(status=S.SENT, payment="transfer", pricing=None, events=(), **kw) -> OrderView:
    base = dict(
        id=1, number="260301001", status=status, status_label="", customer_id=1,
        customer_name="Amy", conversation_id=None, delivery_method="711",
        payment_method=payment, delivery={}, invoice=None, tags=(), note="",
        subtotal=1450, discount_total=254, shipping_fee=60, credit_used=119, tax=54,
        total=1137, pricing=pricing,
        items=(ItemView("product", "A", "A", "", 490, 2, 980, None),),
        events=tuple(events), created_at=AT, expires_at=None, payment_due_at=None,
        tracking_number=None,
    )
    base.update(kw)
    return OrderView(**base)


def plain(message: str, **values: object) -> str:
    return message.format(**values) if values else message


PRICING = {
    "promotions": [{"id": "p1", "name": "滿千折百", "stage": "order", "amount": 100},
                   {"id": "s1", "name": "滿額免運", "stage": "shipping", "amount": 60}],
    "coupon": {"code": "SAVE10", "name": "九折", "applied": True, "amount": 124},
    "custom_discounts": [{"ref": "custom-1", "name": "老客人", "percent": None, "amount": 30}],
    "tax": {"mode": "inclusive", "rate_percent": 5, "amount": 54, "shown": True},
}


def test_discounts_credit_and_tax_lines(app_config):
    page = present(order(pricing=PRICING), app_config, "zh_TW", plain)
    assert [(line.label, line.amount) for line in page.adjustments] == [
        ("滿千折百", -100), ("優惠券 SAVE10", -124), ("老客人", -30), ("購物金折抵", -119)]
    assert (page.tax.label, page.tax.amount) == ("內含營業稅 5%", 54)
    assert page.subtotal + sum(a.amount for a in page.adjustments) + page.shipping == page.total


def test_items_show_list_amounts_and_their_discounted_share(app_config):
    page = present(order(pricing=PRICING), app_config, "zh_TW", plain)
    [item] = page.items
    assert (item.list_total, item.final) == (980, 980)
    gift = ItemView("gift", "G", "贈品", "", 0, 1, 0, None)
    cut = ItemView("product", "A", "A", "", 490, 2, 900, None)
    page = present(order(items=(cut, gift)), app_config, "zh_TW", plain)
    assert [(i.list_total, i.final, i.is_gift) for i in page.items] == [
        (980, 900, False), (0, 0, True)]


def test_discount_without_a_breakdown_is_still_shown(app_config):
    page = present(order(pricing={}), app_config, "zh_TW", plain)
    assert [(line.label, line.amount) for line in page.adjustments] == [
        ("折扣", -254), ("購物金折抵", -119)]
    assert page.tax is None


def test_tax_hidden_when_the_store_does_not_show_it(app_config):
    hidden = {**PRICING, "tax": {**PRICING["tax"], "shown": False}}
    assert present(order(pricing=hidden), app_config, "zh_TW", plain).tax is None


def event(to: S, frm: S, note: str = "") -> EventView:
    return EventView(frm.value, to.value, "x", note, AT)


def test_timeline_of_a_rejected_proof_and_the_reason(app_config):
    events = [event(S.SENT, S.DRAFT), event(S.CONFIRMED, S.SENT),
              event(S.AWAITING_PAYMENT, S.CONFIRMED), event(S.PROOF_SUBMITTED,
                                                            S.AWAITING_PAYMENT),
              event(S.AWAITING_PAYMENT, S.PROOF_SUBMITTED, "金額不符")]
    page = present(order(S.AWAITING_PAYMENT, events=events), app_config, "zh_TW", plain)
    assert [(s.label, s.state) for s in page.steps][:4] == [
        ("待確認", "done"), ("已確認", "done"), ("待付款", "current"), ("等待商家核對", "todo")]
    assert page.steps[0].at == "2026/03/01 10:00"  # Taipei time
    assert page.rejected_reason == "金額不符" and page.can_pay and not page.can_confirm


def test_cancelled_order_ends_its_timeline(app_config):
    events = [event(S.SENT, S.DRAFT), event(S.CANCELLED, S.SENT)]
    page = present(order(S.CANCELLED, events=events), app_config, "zh_TW", plain)
    assert [(s.label, s.state) for s in page.steps] == [("待確認", "done"), ("已取消", "current")]
    assert not (page.can_confirm or page.can_pay)


@pytest.mark.parametrize("payment, path", [
    ("cod", ["待確認", "已確認", "已出貨", "已完成"]),
    ("transfer", ["待確認", "已確認", "待付款", "等待商家核對", "已付款", "已出貨", "已完成"]),
])
def test_timeline_follows_the_payment_method(app_config, payment, path):
    page = present(order(payment=payment), app_config, "zh_TW", plain)
    assert [s.label for s in page.steps] == path
    assert page.pays_on_delivery is (payment == "cod")


def test_every_page_text_has_an_english_translation():
    with (WEB / "locales/en/LC_MESSAGES/web.po").open("rb") as handle:
        english = {m.id: m.string for m in read_po(handle) if m.id}
    used = set(LABELS_ZH.values())
    for template in (WEB / "order_pages/templates").rglob("*.html"):
        used |= set(re.findall(r'_\("([^"]+)"', template.read_text(encoding="utf-8")))
    for module in (WEB / "order_pages").glob("*.py"):
        text = module.read_text(encoding="utf-8")
        used |= set(re.findall(r'(?:_t|\bt|FormProblem|_message_page|_error_page)\("([^"]+)"',
                               text))
        used |= set(re.findall(r'^\s+"\w+": "([^"]+)",$', text, re.MULTILINE))
    missing = sorted(m for m in used if not english.get(m))
    assert not missing

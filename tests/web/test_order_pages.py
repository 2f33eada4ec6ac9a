"""The customer order page over the Flask test client: what it shows, in which
language, to whom (only the holder of a live link), and confirming on it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import redis

from commerce.demo import seed_demo
from commerce.identity import ConversationKey
from commerce.order_status import OrderStatus
from commerce.services.order_requests import LineRequest, OrderRequest
from web.app import create_app
from web.order_pages import guard

S = OrderStatus
PICKUP = {"name": "林美華", "phone": "0922333444",
          "store": {"chain": "711", "store_id": "131386", "name": "沙盒 信義門市",
                    "address": "台北市信義區測試路1號"}}


class FakeNotifier:
    """Stands in for the chat notifier: records what the page asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, list[str], dict]] = []
        self.admins: list[list[str]] = []

    def send(self, conversation_id, messages, **options):  # noqa: ANN001, ANN003, ANN201
        self.sent.append((conversation_id, [m.text for m in messages], options))
        return "sent"

    def tell_admins(self, messages):  # noqa: ANN001, ANN201
        self.admins.append([m.text for m in messages])
        return 1


def make_order(container, *lines, pay="transfer", ship="711", delivery=None,
               conversation_id=None, send=True):
    """A demo-store order (sent to the customer unless ``send`` is false)."""
    customer_id = container.customers.find_by_contact("0922333444")
    order = container.orders.create(OrderRequest(
        customer_id=customer_id, delivery_method=ship, payment_method=pay,
        lines=tuple(LineRequest(sku, qty) for sku, qty in lines or [("TEA-OOLONG", 1)]),
        delivery=PICKUP if delivery is None else delivery, conversation_id=conversation_id,
    ), actor="merchant")
    if send:
        order = container.orders.send(order.number, actor="merchant")
    return order


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def notifier(container):
    fake = FakeNotifier()
    container._chat = SimpleNamespace(notifier=fake)
    return fake


@pytest.fixture
def client(container, notifier):
    seed_demo(container.catalog, container.customers)
    return create_app(container).test_client()


def test_page_shows_the_order_for_its_link(client, container):
    order = make_order(container, ("TEA-OOLONG", 2), ("SHIRT-BLU-M", 1))
    token = container.order_links.issue(order.id)
    response = client.get(f"/o/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "小日子選物" in html and f"訂單 #{order.number}" in html
    assert "阿里山烏龍茶 150g" in html and "藍 / M" in html
    assert re.search(r'id="total">\$2,050<', html)
    assert "沙盒 信義門市" in html and "台北市信義區測試路1號" in html
    assert "0922***444" in html and "0922333444" not in html
    for shown in ("國泰世華銀行", ">013<", "123456789012", "小日子選物有限公司"):
        assert shown in html
    assert 'id="transfer-amount">$2,050<' in html
    assert 'class="step current" aria-current="step"' in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_page_reads_without_javascript_and_uses_only_our_assets(client, container):
    token = container.order_links.issue(make_order(container).id)
    html = client.get(f"/o/{token}").get_data(as_text=True)
    assert "<script" not in html
    for url in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert url.startswith("/"), url
    assert client.get("/assets/order/order.css").status_code == 200


def test_shipping_and_home_address_for_home_delivery(client, container):
    home = {"name": "王小明", "phone": "0912345678", "address": "台北市大安區復興南路一段100號"}
    order = make_order(container, ("CHOP-5", 1), ship="home", pay="cod", delivery=home)
    html = client.get(f"/o/{container.order_links.issue(order.id)}").get_data(as_text=True)
    assert "台北市大安區復興南路一段100號" in html
    assert 'id="shipping">$120<' in html and 'id="total">$419<' in html
    assert 'id="bank"' not in html and "取貨或收貨時付款" in html


def test_english_by_accept_language_and_by_switch(client, container):
    token = container.order_links.issue(make_order(container).id)
    english = client.get(f"/o/{token}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Little Days Select" in english.get_data(as_text=True)
    assert "Confirm order" in english.get_data(as_text=True)
    assert "NT$" in english.get_data(as_text=True)
    client.get(f"/o/{token}?lang=en")
    remembered = client.get(f"/o/{token}").get_data(as_text=True)
    assert 'lang="en"' in remembered and "Awaiting your confirmation" in remembered
    client.get(f"/o/{token}?lang=zh_TW")
    assert "確認訂單" in client.get(f"/o/{token}").get_data(as_text=True)


def test_wrong_revoked_and_expired_links_show_nothing(client, container):
    order = make_order(container)
    old = container.order_links.issue(order.id)
    current = container.order_links.issue(order.id)  # resent: the old link stops working
    expired = make_order(container)
    late = container.order_links.issue(expired.id,
                                       expires_at=datetime.now(timezone.utc) - timedelta(1))
    for token in (old, late, "x" * 43, current[:-1]):
        response = client.get(f"/o/{token}")
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert order.number not in html and expired.number not in html
        assert "國泰世華" not in html
    assert client.get(f"/o/{current}").status_code == 200
    container.order_links.revoke(order.id)
    assert client.get(f"/o/{current}").status_code == 404


def test_repeated_bad_tokens_from_one_address_are_locked_out(client, container):
    token = container.order_links.issue(make_order(container).id)
    for n in range(guard.MISS_LIMIT.max_failures):
        assert client.get(f"/o/not-a-token-{n}").status_code == 404
    assert client.get("/o/not-a-token").status_code == 429
    assert client.get(f"/o/{token}").status_code == 429
    other = client.get(f"/o/{token}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_confirm_needs_the_form_token_of_this_order(client, container):
    mine, theirs = make_order(container), make_order(container)
    my_token = container.order_links.issue(mine.id)
    their_token = container.order_links.issue(theirs.id)
    their_csrf = csrf_of(client.get(f"/o/{their_token}").get_data(as_text=True))
    assert client.post(f"/o/{my_token}/confirm").status_code == 403
    assert client.post(f"/o/{my_token}/confirm",
                       data={"csrf_token": their_csrf}).status_code == 403
    assert client.post(f"/o/{my_token}/confirm", data={"csrf_token": "forged"}).status_code == 403
    assert container.orders.get(mine.number).status is S.SENT


def test_confirm_once_then_already_confirmed(client, container, notifier):
    conv = container.conversations.ensure(ConversationKey("line", "main", "U1"), "Amy")
    order = make_order(container, conversation_id=conv.id)
    token = container.order_links.issue(order.id)
    form = {"csrf_token": csrf_of(client.get(f"/o/{token}").get_data(as_text=True))}
    first = client.post(f"/o/{token}/confirm", data=form)
    assert first.status_code == 303
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "訂單已確認" in page and 'id="pay"' in page and "確認訂單</button>" not in page
    assert container.orders.get(order.number).status is S.AWAITING_PAYMENT
    again = client.post(f"/o/{token}/confirm", data=form)
    assert "這張訂單已經確認過了" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert [texts for _, texts, _ in notifier.sent] == [[f"已確認訂單 {order.number}"]]


def test_confirmed_in_chat_first_then_on_the_page(client, container, notifier):
    order = make_order(container)
    token = container.order_links.issue(order.id)
    form = {"csrf_token": csrf_of(client.get(f"/o/{token}").get_data(as_text=True))}
    assert container.orders.confirm(order.number, actor="customer").changed
    again = client.post(f"/o/{token}/confirm", data=form)
    assert "這張訂單已經確認過了" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert notifier.sent == []


def test_cancelled_order_cannot_be_confirmed(client, container):
    order = make_order(container)
    token = container.order_links.issue(order.id)
    form = {"csrf_token": csrf_of(client.get(f"/o/{token}").get_data(as_text=True))}
    container.orders.cancel(order.number, actor="merchant")
    assert client.post(f"/o/{token}/confirm", data=form).status_code == 409
    html = client.get(f"/o/{token}").get_data(as_text=True)
    assert 'data-status="cancelled"' in html and "確認訂單</button>" not in html


def test_page_still_opens_when_redis_is_down(client, container):
    token = container.order_links.issue(make_order(container).id)
    container._redis = redis.Redis(port=1, socket_connect_timeout=0.5, retry=None)
    assert client.get(f"/o/{token}").status_code == 200
    assert client.get("/o/unknown-token").status_code == 404


def amounts(html: str, pattern: str) -> list[int]:
    return [int(a.replace(",", "").replace("$", "")) for a in re.findall(pattern, html)]


def test_items_and_figures_add_up_with_the_stores_promotions(client, container):
    order = make_order(container, ("TEA-OOLONG", 1), ("TEA-RUBY", 1), ("SHIRT-WHT-S", 1))
    html = client.get(f"/o/{container.order_links.issue(order.id)}").get_data(as_text=True)
    items = amounts(html, r'<p class="sum">(-?\$[\d,]+)')
    [subtotal] = amounts(html, r'id="subtotal">(\$[\d,]+)<')
    discounts = amounts(html, r'class="discount"><dt>[^<]*</dt><dd>-(\$[\d,]+)<')
    [total] = amounts(html, r'id="total">(\$[\d,]+)<')
    shipping = amounts(html, r'id="shipping">(\$[\d,]+)<') or [0]
    assert sum(items) == subtotal == order.subtotal
    assert subtotal - sum(discounts) + shipping[0] == total == order.total
    assert ("折後" in html) == (order.discount_total > 0)

"""The order page over real HTTP with the sandbox platforms: what the customer does
on the page shows up in their chat, in the conversation history and at the merchant."""

from __future__ import annotations

import io
import re

import pytest
import requests
from PIL import Image

from commerce.identity import ConversationKey
from commerce.order_status import OrderStatus
from tests.support.chat_story import texts
from tests.support.live_shop import wait_until
from tests.web.test_order_pages import make_order

pytestmark = pytest.mark.slow



def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (10, 160, 90)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_confirm_and_proof_on_the_page_reach_the_chat(live_shop, channel):
    boss = live_shop.merchant("老闆")
    amy = live_shop.customer("Amy", channel)
    amy.says("我要買茶")
    wait_until(lambda: texts(amy), message="the first reply")
    key = ConversationKey(channel, amy.user.account, amy.user_id)
    conv = live_shop.container.conversations.ensure(key)
    order = make_order(live_shop.container, ("TEA-OOLONG", 1), conversation_id=conv.id)
    token = live_shop.container.order_links.issue(order.id)
    page_url = f"{live_shop.url}/o/{token}"

    with requests.Session() as browser:
        page = browser.get(page_url, timeout=10)
        assert page.status_code == 200 and 'id="total">$640<' in page.text
        confirmed = browser.post(f"{page_url}/confirm", data={"csrf_token": csrf_of(page.text)},
                                 timeout=10)
        assert confirmed.status_code == 200 and "訂單已確認" in confirmed.text
        form = browser.get(f"{page_url}/pay", timeout=10)
        sent = browser.post(f"{page_url}/pay", data={"csrf_token": csrf_of(form.text)},
                            files={"proof": ("slip.jpg", jpeg(), "image/jpeg")}, timeout=10)
        assert sent.status_code == 200 and "等待商家核對" in sent.text

    wait_until(lambda: "已收到轉帳證明，等待商家核對" in texts(amy), message="the chat message")
    assert f"已確認訂單 {order.number}" in texts(amy)
    history = [m.text for m in live_shop.container.conversations.history(conv.id)]
    assert "已收到轉帳證明，等待商家核對" in history
    wait_until(lambda: any(order.number in t and "轉帳證明" in t for t in texts(boss)),
               message="the merchant is told")
    assert live_shop.container.orders.get(order.number).status is OrderStatus.PROOF_SUBMITTED


def test_order_without_a_chat_still_takes_a_proof(live_shop):
    order = make_order(live_shop.container, ("CHOP-5", 1))
    live_shop.container.orders.confirm(order.number, actor="customer")
    token = live_shop.container.order_links.issue(order.id)
    with requests.Session() as browser:
        form = browser.get(f"{live_shop.url}/o/{token}/pay", timeout=10)
        sent = browser.post(f"{live_shop.url}/o/{token}/pay",
                            data={"csrf_token": csrf_of(form.text)},
                            files={"proof": ("slip.jpg", jpeg(), "image/jpeg")}, timeout=10)
    assert sent.status_code == 200 and "等待商家核對" in sent.text

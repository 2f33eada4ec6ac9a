"""A customer on the order page in a real Chromium (phone-sized): reads the total,
confirms, uploads a transfer proof, and has a non-image refused."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from commerce.identity import ConversationKey
from commerce.order_status import OrderStatus
from tests.browser.conftest import screenshot
from tests.support.live_shop import wait_until
from tests.web.test_order_pages import make_order

pytestmark = pytest.mark.browser
S = OrderStatus


@pytest.fixture
def amys_order(running_shop):
    """Amy has chatted with the shop on LINE and got an order for two teas and a shirt."""
    amy = running_shop.customer("Amy")
    amy.says("我要訂購")
    wait_until(lambda: amy.seen(), message="the shop's first reply")
    key = ConversationKey("line", amy.user.account, amy.user_id)
    conv = running_shop.container.conversations.ensure(key)
    order = make_order(running_shop.container, ("TEA-OOLONG", 2), ("SHIRT-BLU-M", 1),
                       conversation_id=conv.id)
    token = running_shop.container.order_links.issue(order.id)
    return amy, order, f"{running_shop.url}/o/{token}"


def chat_texts(person) -> list[str]:
    return [m.get("text", "") for m in person.seen()]


def test_order_page_shows_the_total_and_confirms(phone, running_shop, amys_order):
    from playwright.sync_api import expect

    _, order, url = amys_order
    page = phone.new_page()
    page.goto(url)
    expect(page.locator("h1")).to_have_text(f"訂單 #{order.number}")
    expect(page.locator("#total")).to_have_text("$2,050")
    expect(page.locator(".item")).to_have_count(2)
    expect(page.locator(".item .variant")).to_have_text("藍 / M")
    expect(page.locator("#status")).to_have_text("待確認")
    screenshot(page, "order-page-sent")

    page.get_by_role("button", name="確認訂單").click()
    expect(page.locator("#notice")).to_have_text("訂單已確認")
    expect(page.locator("#status")).to_have_text("待付款")
    expect(page.locator(".step.current .what")).to_have_text("待付款")
    expect(page.get_by_role("button", name="確認訂單")).to_have_count(0)
    assert running_shop.container.orders.get(order.number).status is S.AWAITING_PAYMENT

    page.get_by_role("link", name="English").click()
    expect(page.locator("#status")).to_have_text("Awaiting payment")
    expect(page.locator("#total")).to_have_text("NT$2,050")


def test_jpeg_proof_is_accepted_and_the_chat_hears_of_it(phone, running_shop, amys_order):
    from playwright.sync_api import expect

    amy, order, url = amys_order
    running_shop.container.orders.confirm(order.number, actor="customer")
    page = phone.new_page()
    page.goto(url)
    page.get_by_role("link", name="去支付").click()
    expect(page.locator("#transfer-amount")).to_have_text("$2,050")
    slip = io.BytesIO()
    Image.new("RGB", (600, 900), (240, 240, 235)).save(slip, "JPEG")
    page.set_input_files("#proof", files=[{"name": "slip.jpg", "mimeType": "image/jpeg",
                                           "buffer": slip.getvalue()}])
    page.get_by_label("轉出帳號末五碼（選填）").fill("54321")
    page.get_by_role("button", name="送出轉帳證明").click()
    expect(page.locator("#status")).to_have_text("等待商家核對")
    expect(page.locator("#notice")).to_have_text("已收到轉帳證明，等待商家核對")
    screenshot(page, "order-page-proof-submitted")

    assert running_shop.container.orders.get(order.number).status is S.PROOF_SUBMITTED
    wait_until(lambda: "已收到轉帳證明，等待商家核對" in chat_texts(amy),
               message="the message in Amy's chat")


def test_non_image_upload_is_refused_and_nothing_changes(phone, running_shop, amys_order):
    from playwright.sync_api import expect

    amy, order, url = amys_order
    running_shop.container.orders.confirm(order.number, actor="customer")
    page = phone.new_page()
    page.goto(f"{url}/pay")
    page.set_input_files("#proof", files=[{"name": "slip.jpg", "mimeType": "image/jpeg",
                                           "buffer": b"%PDF-1.4 this is not a picture"}])
    page.get_by_role("button", name="送出轉帳證明").click()
    expect(page.locator("#error")).to_have_text("只接受 JPEG、PNG 或 WebP 圖片")
    expect(page.locator("#error")).to_have_attribute("data-reason", "type")
    screenshot(page, "order-page-proof-refused")
    assert running_shop.container.orders.get(order.number).status is S.AWAITING_PAYMENT
    assert not any(re.search("轉帳證明", t) for t in chat_texts(amy))

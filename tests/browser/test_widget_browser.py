"""The storefront widget in Chromium on the demo shop: when the popup appears, what
pressing it shows, the bound state and its undo, LINE versus Messenger once bound,
and a member's confirmation on a shop of another origin.

The binding API answers here from a stub that follows the documented contract
(docs/interfaces.md), so these tests pin the widget's behaviour on their own; the
round trip through the real API and the sandbox chat is in
test_binding_round_trip_browser.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from tests.browser.conftest import screenshot
from web.sandbox.server import serve_in_thread

pytestmark = pytest.mark.browser
DAY1 = datetime(2026, 5, 4, 3, 0, tzinfo=timezone.utc)  # 11:00 in Taipei
DAY2 = DAY1 + timedelta(days=1)
CODE = "482913"


class BindingApiStub:
    """Answers /api/binding-codes like the real API would, and records the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.status = "pending"
        self.bound: dict = {}

    def bind(self, name: str, **extra: object) -> None:
        self.status, self.bound = "bound", {"display_name": name, **extra}

    def handle(self, route, request) -> None:  # noqa: ANN001
        url = urlsplit(request.url)
        body = json.loads(request.post_data) if request.post_data else {}
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.calls.append((request.method, url.path, body or query))
        if request.method == "OPTIONS":
            return route.fulfill(status=204, headers=self._cors(request))
        if url.path.endswith("/qr.svg"):
            return route.fulfill(status=200, content_type="image/svg+xml", headers=self._cors(
                request), body='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
                '<rect width="2" height="2"/></svg>')
        if request.method == "POST" and url.path == "/api/binding-codes":
            expires = datetime.now(timezone.utc) + timedelta(minutes=10)
            return self._json(route, request, 201, {
                "id": "issue1", "code": CODE, "expires_at": expires.isoformat(),
                "deep_link": f"https://line.me/R/oaMessage/%40chatcart/?{CODE}",
                "qr_svg_url": "/api/binding-codes/issue1/qr.svg"})
        if request.method == "POST" and url.path.endswith("/confirm"):
            self.bound = {**self.bound, "needs_confirmation": False}
            return self._json(route, request, 200, {"status": "bound", **self.bound})
        if request.method == "DELETE":
            self.status, self.bound = "expired", {}
            return route.fulfill(status=204, headers=self._cors(request))
        return self._json(route, request, 200, {"status": self.status, **self.bound})

    @staticmethod
    def _cors(request) -> dict:  # noqa: ANN001
        origin = request.headers.get("origin")
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods":
                "GET, POST, DELETE", "Access-Control-Allow-Headers": "Content-Type"} \
            if origin else {}

    def _json(self, route, request, status: int, data: dict) -> None:  # noqa: ANN001
        route.fulfill(status=status, content_type="application/json",
                      headers=self._cors(request), body=json.dumps(data))


def open_shop(context, shop, *, channel="line", day=DAY1, stub=None):  # noqa: ANN001
    page = context.new_page()
    page.clock.set_fixed_time(day)
    if stub is not None:
        page.route(f"{shop.url}/api/binding-codes**", stub.handle)
    page.goto(f"{shop.url}/demo/shop?channel={channel}")
    wait_for_widget(page)
    return page


def wait_for_widget(page) -> None:  # noqa: ANN001
    page.wait_for_function("() => window.ChatcartBinding !== undefined")
    assert page.evaluate("() => window.ChatcartBinding.ready") is True


def add_to_cart(page, times: int = 1) -> None:  # noqa: ANN001
    for _ in range(times):
        page.get_by_role("button", name="加入購物車").first.click()


def test_popup_on_every_second_add_twice_a_day(desktop, running_shop):
    from playwright.sync_api import expect

    page = open_shop(desktop, running_shop)
    popup = page.get_by_role("dialog")
    add_to_cart(page)
    expect(popup).to_be_hidden()
    add_to_cart(page)
    expect(popup).to_be_visible()
    expect(popup.locator(".title")).to_have_text("加入 LINE 好友，購物車不遺失")
    expect(popup.get_by_role("button", name="用 LINE 接收通知")).to_be_visible()
    screenshot(page, "widget-popup-line")
    popup.get_by_role("button", name="關閉").click()
    expect(popup).to_be_hidden()
    add_to_cart(page)
    expect(popup).to_be_hidden()
    add_to_cart(page)
    expect(popup).to_be_visible()  # the second time today
    popup.get_by_role("button", name="關閉").click()
    for _ in range(4):
        add_to_cart(page)
        expect(popup).to_be_hidden()
    expect(page.locator("#cart-count")).to_have_text("8")

    page.reload()
    wait_for_widget(page)
    add_to_cart(page, 2)
    expect(page.get_by_role("dialog")).to_be_hidden()

    page.clock.set_fixed_time(DAY2)
    page.reload()
    wait_for_widget(page)
    add_to_cart(page, 2)
    expect(page.get_by_role("dialog")).to_be_visible()


def test_pressing_shows_the_code_then_the_bound_state_and_its_undo(desktop, running_shop):
    from playwright.sync_api import expect

    stub = BindingApiStub()
    page = open_shop(desktop, running_shop, stub=stub)
    add_to_cart(page, 2)
    popup = page.get_by_role("dialog")
    popup.get_by_role("button", name="用 LINE 接收通知").click()
    expect(popup.locator(".code")).to_have_text(CODE)
    expect(popup.locator("img.qr")).to_be_visible()
    expect(popup.locator(".deep-link")).to_have_count(0)  # a desktop scans the QR code
    screenshot(page, "widget-code-line")
    [(_, _, asked)] = [c for c in stub.calls if c[0] == "POST"]
    cookie = {c["name"]: c["value"] for c in desktop.cookies()}["chatcart_vid"]
    assert asked == {"visitor_id": cookie, "channel": "line"} and len(cookie) == 32

    stub.bind("Amy")
    expect(popup.locator(".bound")).to_have_text("已綁定 Amy")
    screenshot(page, "widget-bound-line")
    popup.get_by_role("link", name="不是你?").click()
    expect(popup.locator(".message")).to_have_text("已取消綁定")
    [(_, path, undo)] = [c for c in stub.calls if c[0] == "DELETE"]
    assert path == "/api/binding-codes/issue1" and undo == {"visitor_id": cookie}

    popup.get_by_role("button", name="關閉").click()
    add_to_cart(page, 2)
    expect(popup).to_be_hidden()  # the button was pressed today


@pytest.mark.parametrize("channel, offered", [("line", False), ("messenger", True)])
def test_once_bound_line_stops_offering_and_messenger_keeps_offering(
        desktop, running_shop, channel, offered):
    from playwright.sync_api import expect

    stub = BindingApiStub()
    page = open_shop(desktop, running_shop, channel=channel, stub=stub)
    add_to_cart(page, 2)
    popup = page.get_by_role("dialog")
    button = "用 LINE 接收通知" if channel == "line" else "傳送到 Messenger"
    popup.get_by_role("button", name=button).click()
    stub.bind("Amy")
    expect(popup.locator(".bound")).to_have_text("已綁定 Amy")

    page.clock.set_fixed_time(DAY2)
    page.reload()
    wait_for_widget(page)
    add_to_cart(page, 2)
    expect(page.get_by_role("dialog")).to_be_visible() if offered else \
        expect(page.get_by_role("dialog")).to_be_hidden()


def test_a_phone_gets_the_deep_link(phone, running_shop):
    from playwright.sync_api import expect

    page = open_shop(phone, running_shop, stub=BindingApiStub())
    add_to_cart(page, 2)
    popup = page.get_by_role("dialog")
    popup.get_by_role("button", name="用 LINE 接收通知").click()
    link = popup.get_by_role("link", name="開啟 LINE 傳送代碼")
    expect(link).to_have_attribute("href", f"https://line.me/R/oaMessage/%40chatcart/?{CODE}")
    expect(popup.locator(".code")).to_have_text(CODE)
    screenshot(page, "widget-code-phone")


def foreign_shop(widget_url: str) -> Flask:
    """Someone else's shop (another origin) that includes the widget with one tag."""
    app = Flask("foreign_shop")

    @app.get("/product/1")
    def product() -> str:
        return ('<!doctype html><html><body><h1>Foreign shop</h1>'
                '<button data-chatcart-add-to-cart>加入購物車</button>'
                f'<script src="{widget_url}" data-channel="line" '
                'data-member-token="member-token-123"></script></body></html>')

    return app


def test_member_confirms_on_a_shop_of_another_origin(desktop, running_shop):
    from playwright.sync_api import expect

    stub = BindingApiStub()
    container = running_shop.container
    with serve_in_thread(foreign_shop(f"{running_shop.url}/widget/binding.js")) as shop:
        container.config = container.config.model_copy(update={
            "widget": container.config.widget.model_copy(
                update={"allowed_origins": (shop.url,)})})
        page = desktop.new_page()
        page.clock.set_fixed_time(DAY1)
        page.route(f"{running_shop.url}/api/binding-codes**", stub.handle)
        page.goto(f"{shop.url}/product/1")
        wait_for_widget(page)  # the settings came cross-origin: CORS for this origin works
        add_to_cart(page, 2)
        popup = page.get_by_role("dialog")
        popup.get_by_role("button", name="用 LINE 接收通知").click()
        expect(popup.locator(".code")).to_have_text(CODE)
        [asked] = [c[2] for c in stub.calls if c[0] == "POST"]
        assert asked["member_token"] == "member-token-123"

        stub.bind("Amy", needs_confirmation=True)
        expect(popup.locator(".title")).to_have_text("是你嗎？")
        expect(popup.locator(".who")).to_have_text("Amy")
        screenshot(page, "widget-member-confirm")
        popup.get_by_role("button", name="是我", exact=True).click()
        expect(popup.locator(".bound")).to_have_text("已綁定 Amy")
        assert [c[1] for c in stub.calls if c[0] == "POST"][-1] == \
            "/api/binding-codes/issue1/confirm"

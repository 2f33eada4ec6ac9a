"""A person at the sandbox chat page: types, sees the shop's answer, taps its button.

The "shop" here is a tiny bot that replies through line-bot-sdk pointed at the
emulator, so the page is exercised over the same wire path as the real service.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, request
from linebot.v3 import WebhookParser
from linebot.v3.messaging import (
    ApiClient,
    ButtonsTemplate,
    Configuration,
    MessagingApi,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TemplateMessage,
    TextMessage,
)
from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.sandbox import LINE, PlatformEmulator
from web.sandbox import create_emulator_app, serve_in_thread

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET, TOKEN = "browser-secret", "browser-token"


@dataclass
class Shop:
    """The stand-in service: what it received, and where the emulator lives."""

    api_base: str = ""
    postbacks: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def shop_app(shop: Shop) -> Flask:
    app = Flask("shop")
    parser = WebhookParser(SECRET)

    @app.post("/webhooks/line")
    def webhook() -> str:
        payload = parser.parse(
            request.get_data(as_text=True), request.headers["X-Line-Signature"], True
        )
        for event in payload.events:
            messages = _answer(shop, event)
            if messages:
                config = Configuration(access_token=TOKEN, host=shop.api_base)
                with ApiClient(config) as client:
                    MessagingApi(client).reply_message(
                        ReplyMessageRequest(reply_token=event.reply_token, messages=messages),
                        _request_timeout=(3, 10),
                    )
        return "OK"

    return app


def _answer(shop: Shop, event: object) -> list:
    if isinstance(event, MessageEvent):
        shop.texts.append(event.message.text)
        confirm = TemplateMessage(
            alt_text="訂單確認",
            template=ButtonsTemplate(
                title="訂單 #1001",
                text="共 NT$580，確認嗎？",
                actions=[PostbackAction(label="確認訂單", data="order.confirm:1001")],
            ),
            quick_reply=QuickReply(
                items=[
                    QuickReplyItem(action=PostbackAction(label="取消", data="order.cancel:1001"))
                ]
            ),
        )
        return [TextMessage(text=f"收到：{event.message.text}"), confirm]
    if isinstance(event, PostbackEvent):
        shop.postbacks.append(event.postback.data)
        return [TextMessage(text="已確認訂單 #1001")]
    return []


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def running() -> Iterator[tuple[str, PlatformEmulator, Shop]]:
    emulator, shop = PlatformEmulator(), Shop()
    with (
        serve_in_thread(create_emulator_app(emulator)) as sandbox,
        serve_in_thread(shop_app(shop)) as service,
    ):
        shop.api_base = sandbox.url + "/sandbox/line"
        emulator.add_line_channel(
            "main",
            channel_secret=SECRET,
            access_token=TOKEN,
            basic_id="@123abcde",
            webhook_url=service.url + "/webhooks/line",
        )
        yield sandbox.url + "/sandbox/", emulator, shop


def test_customer_chats_and_taps_a_button(browser, running):
    from playwright.sync_api import expect

    url, emulator, shop = running
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(url)
        expect(page.locator("#account option")).to_have_count(1)
        page.get_by_role("button", name="進入對話").click()
        expect(page.locator("#title")).to_contain_text("王小明")

        page.get_by_label("訊息").fill("我要買兩件")
        page.get_by_role("button", name="傳送").click()

        expect(page.locator(".entry.in .bubble")).to_have_text("我要買兩件")
        expect(page.locator(".entry.out .bubble").first).to_have_text("收到：我要買兩件")
        expect(page.locator(".card-title")).to_have_text("訂單 #1001")
        expect(page.locator("#quick-replies .quick")).to_have_text("取消")
        expect(page.locator("#calls li").first).to_contain_text(re.compile(r"line reply → 200"))
        page.get_by_role("button", name="確認訂單").click()
        expect(page.locator(".entry.out .bubble").last).to_have_text("已確認訂單 #1001")

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "sandbox-chat-line.png"), full_page=True)
    finally:
        page.close()

    [user] = emulator.users()
    inbound = [
        e.message for e in emulator.transcript(LINE, "main", user.user_id) if e.direction == "in"
    ]
    assert inbound[0] == {"kind": "text", "text": "我要買兩件"}
    assert shop.texts == ["我要買兩件"]
    assert shop.postbacks == ["order.confirm:1001"]
    assert [call.status for call in emulator.calls(LINE, "reply")] == [200, 200]

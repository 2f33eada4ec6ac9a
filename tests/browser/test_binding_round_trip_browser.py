"""The whole binding round trip a newcomer tries: the popup on the demo shop gives a
code, the code is sent from the sandbox chat page, the popup shows who is bound, and
"不是你?" undoes it. Runs against the real binding API (web/binding_api.py) and the
chat side of binding; skipped while those are not part of the checkout."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def binding_api_present(url: str) -> bool:
    return requests.options(f"{url}/api/binding-codes", timeout=5).status_code != 404


@pytest.mark.parametrize("channel, button", [("line", "用 LINE 接收通知"),
                                             ("messenger", "傳送到 Messenger")])
def test_code_sent_in_the_sandbox_chat_shows_the_bound_state(desktop, running_shop, channel,
                                                             button):
    from playwright.sync_api import expect

    if not binding_api_present(running_shop.url):
        pytest.skip("the binding API (POST /api/binding-codes) is not in this checkout yet")
    shop = desktop.new_page()
    shop.goto(f"{running_shop.url}/demo/shop?channel={channel}")
    shop.wait_for_function("() => window.ChatcartBinding !== undefined")
    assert shop.evaluate("() => window.ChatcartBinding.ready") is True
    for _ in range(2):
        shop.get_by_role("button", name="加入購物車").first.click()
    popup = shop.get_by_role("dialog")
    with shop.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/api/binding-codes")) as issued:
        popup.get_by_role("button", name=button).click()
    issue_id = issued.value.json()["id"]
    code = popup.locator(".code")
    expect(code).to_have_text(re.compile(r"^\d{6}$"), timeout=10_000)
    digits = code.text_content()

    chat = desktop.new_page()
    chat.goto(f"{running_shop.url}/sandbox/")
    chat.locator("#channel").select_option(channel)
    chat.locator("#name").fill("Amy")
    chat.get_by_role("button", name="進入對話").click()
    chat.get_by_label("訊息").fill(digits)
    chat.get_by_role("button", name="傳送").click()

    expect(popup.locator(".bound")).to_have_text("已綁定 Amy", timeout=20_000)
    screenshot(shop, f"round-trip-bound-{channel}")
    screenshot(chat, f"round-trip-chat-{channel}")
    popup.get_by_role("link", name="不是你?").click()
    expect(popup.locator(".message")).to_have_text("已取消綁定")
    after = requests.get(f"{running_shop.url}/api/binding-codes/{issue_id}", timeout=5).json()
    assert after["status"] == "expired"  # undone: the chat is no longer bound

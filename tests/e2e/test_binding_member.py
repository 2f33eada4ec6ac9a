"""A member binding over real HTTP and webhooks: the shop's signed member token, the
code sent in the chat, the shopper confirming the chat name on the page (only then is
the member linked), and "不是你?" undoing it; the chat is told each time."""

from __future__ import annotations

import pytest
import requests

from commerce.services.binding_service import sign_member_token
from tests.e2e.test_binding import SUCCESS
from tests.support.chat_story import conversation, texts
from tests.support.live_shop import start_live_shop, wait_until

pytestmark = pytest.mark.slow
SECRET = "member-secret-e2e"


@pytest.fixture
def member_shop(app_config, tmp_path, database_url, redis_url):
    from commerce.demo import seed_demo
    from web.environment import load_environment

    env = load_environment({"DATABASE_URL": database_url, "CHATCART_SECRET_KEY": "k" * 20,
                            "CHATCART_MEMBER_TOKEN_SECRET": SECRET}, var_dir=tmp_path / "var")
    shop = start_live_shop(app_config, env, redis_url)
    seed_demo(shop.container.catalog, shop.container.customers)
    yield shop
    shop.stop()


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_the_member_is_linked_only_after_the_page_confirms_and_undo_unlinks(member_shop,
                                                                            channel):
    api = f"{member_shop.url}/api/binding-codes"
    expires = int(member_shop.emulator.clock.now().timestamp()) + 600
    member = sign_member_token(SECRET, "ming@example.com", expires)
    issued = requests.post(api, json={"visitor_id": "shopper-9", "channel": channel,
                                      "member_token": member}, timeout=10).json()
    ming = member_shop.customer("小明", channel)
    ming.says(issued["code"])
    wait_until(lambda: len(texts(ming)) == 2, message="success and the page hint")
    assert texts(ming)[0] == SUCCESS and "確認是你本人" in texts(ming)[1]
    status = requests.get(f"{api}/{issued['id']}", timeout=10).json()
    assert (status["display_name"], status["needs_confirmation"]) == ("小明", True)
    assert conversation(member_shop, ming).customer_id is None

    confirmed = requests.post(f"{api}/{issued['id']}/confirm",
                              json={"visitor_id": "shopper-9"}, timeout=10)
    assert confirmed.status_code == 200
    customer = member_shop.container.customers.find_by_contact("ming@example.com")
    assert conversation(member_shop, ming).customer_id == customer
    wait_until(lambda: texts(ming)[-1] == "已在網頁確認，這個聊天已連結你的會員資料。",
               message="the chat told")

    undone = requests.delete(f"{api}/{issued['id']}", params={"visitor_id": "shopper-9"},
                             timeout=10)
    assert undone.status_code == 204
    assert conversation(member_shop, ming).customer_id is None
    wait_until(lambda: texts(ming)[-1].startswith("網頁上已取消這次綁定"), message="undo told")
    assert requests.get(f"{api}/{issued['id']}", timeout=10).json()["status"] == "expired"

"""The chat path end to end: signed webhooks over HTTP, Redis ingestion, workers,
the outbox and the sandbox platforms. The router is the echo router, so every
customer message has exactly one visible answer."""

import threading

import pytest
import requests

from bot.messages import Text
from bot.sandbox.faults import FaultRule
from commerce.identity import ConversationKey
from tests.support.chat_story import texts
from tests.support.live_shop import wait_until

pytestmark = pytest.mark.slow



@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_text_reaches_the_dispatcher_and_is_answered(echo_shop, channel):
    amy = echo_shop.customer("Amy", channel)
    assert amy.says("你好").status == 200
    wait_until(lambda: texts(amy) == ["收到：你好"], message="the echo reply")
    conv = echo_shop.container.conversations.recent()[0]
    history = echo_shop.container.conversations.history(conv.id)
    assert [(m.direction, m.status) for m in history] == [("in", "handled"), ("out", "sent")]
    assert conv.display_name == "Amy"


def test_line_reply_uses_the_free_reply_token(echo_shop):
    amy = echo_shop.customer("Amy")
    amy.says("hi")
    wait_until(lambda: texts(amy), message="a reply")
    calls = echo_shop.emulator.calls("line")
    endpoints = [c.endpoint for c in calls if c.endpoint in ("reply", "push")]
    assert endpoints == ["reply"]


def test_sticker_is_recorded_and_answered_politely(echo_shop):
    bob = echo_shop.customer("Bob")
    echo_shop.actions.send_sticker(bob.user.account, bob.user_id)
    wait_until(lambda: texts(bob), message="a reply")
    assert "貼圖" in texts(bob)[0]
    conv = echo_shop.container.conversations.recent()[0]
    inbound = echo_shop.container.conversations.history(conv.id)[0]
    assert (inbound.kind, inbound.text) == ("sticker", "（貼圖，未顯示）")


def test_redelivered_event_is_processed_once(echo_shop):
    amy = echo_shop.customer("Amy")
    first = amy.says("只說一次")
    wait_until(lambda: texts(amy), message="the first reply")
    again = echo_shop.actions.redeliver(first)
    assert again.status == 200
    amy.says("第二句")
    wait_until(lambda: len(texts(amy)) == 2, message="the second reply")
    assert texts(amy) == ["收到：只說一次", "收到：第二句"]


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_forged_signature_is_refused_and_nothing_stored(echo_shop, channel):
    eve = echo_shop.customer("Eve", channel)
    delivery = eve.says("真的")
    wait_until(lambda: texts(eve), message="the genuine reply")
    status = echo_shop.actions.send_with_bad_signature(delivery)
    assert status == (400 if channel == "line" else 403)
    assert texts(eve) == ["收到：真的"]


@pytest.mark.parametrize("path, header", [("/webhooks/line", "X-Line-Signature"),
                                          ("/webhooks/messenger", "X-Hub-Signature-256")])
def test_missing_signature_and_huge_body(echo_shop, path, header):
    url = echo_shop.url + path
    refused = 400 if "line" in path else 403
    assert requests.post(url, data=b'{"events": []}', timeout=5).status_code == refused
    huge = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    assert requests.post(url, data=huge, headers={header: "x"}, timeout=10).status_code == 413


def test_twenty_customers_ten_messages_each_in_order(echo_shop):
    people = [echo_shop.customer(f"客人{n}") for n in range(20)]

    def chat(person):
        for i in range(10):
            assert person.says(f"{person.user.display_name}-{i}").status == 200

    threads = [threading.Thread(target=chat, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for person in people:
        expected = [f"收到：{person.user.display_name}-{i}" for i in range(10)]
        wait_until(lambda p=person, e=expected: texts(p) == e, timeout=60,
                   message=f"ordered replies for {person.user.display_name}")


def test_429_then_200_delivers_exactly_once(echo_shop):
    amy = echo_shop.customer("Amy")
    conv = echo_shop.container.conversations.ensure(ConversationKey("line", "main", amy.user_id))
    # no reply token: a push, which the platform refuses once with a rate limit
    echo_shop.emulator.faults.add(FaultRule(channel="line", endpoint="push", status=429,
                                            retry_after=1))
    echo_shop.container.chat.notifier.send(conv.id, [Text("出貨通知")])
    wait_until(lambda: texts(amy) == ["出貨通知"], message="one delivered push")
    pushes = [c for c in echo_shop.emulator.calls("line") if c.endpoint == "push"]
    assert [c.status for c in pushes] == [429, 200]

"""Customer actions produce the platforms' real, correctly signed webhook bodies."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from linebot.v3 import WebhookParser
from linebot.v3.webhooks import (
    FollowEvent,
    ImageMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
)

from bot.sandbox import LINE, MESSENGER, CustomerActions
from bot.sandbox.webhooks import line_signature
from tests.bot.sandbox.conftest import START, line_call

ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


@pytest.fixture
def amy(actions):
    return actions.customer(LINE, "main", "王小美")


@pytest.fixture
def amy_fb(actions):
    return actions.customer(MESSENGER, "PAGE1", "王小美")


def parse_line(transport, index: int = -1):
    """The last posted LINE body, parsed by line-bot-sdk (which checks the signature)."""
    _, body, headers = transport.sent[index]
    return WebhookParser("line-secret").parse(
        body.decode(), headers["x-line-signature"], as_payload=True
    )


def test_line_text_body(emulator, transport, amy):
    delivery = amy.says("我要買兩件")

    url, body, headers = transport.sent[0]
    payload = json.loads(body)
    [event] = payload["events"]
    assert url == "http://127.0.0.1:9/webhooks/line"
    assert delivery.status == 200
    assert payload["destination"] == emulator.line_channel("main").bot_user_id
    assert re.fullmatch(r"U[0-9a-f]{32}", payload["destination"])
    assert event["type"] == "message"
    assert event["mode"] == "active"
    assert event["timestamp"] == int(START.timestamp() * 1000)
    assert event["source"] == {"type": "user", "userId": amy.user_id}
    assert ULID.fullmatch(event["webhookEventId"])
    assert event["deliveryContext"] == {"isRedelivery": False}
    assert event["message"]["type"] == "text"
    assert event["message"]["text"] == "我要買兩件"
    assert event["replyToken"]
    assert headers["x-line-signature"] == line_signature("line-secret", body)


def test_line_events_parse_with_the_sdk(amy, transport):
    amy.says("hi")
    amy.sends_image(b"jpeg")
    amy.taps("order.confirm:1001", "確認")
    amy.unfollows()
    amy.follows()

    kinds = [parse_line(transport, i).events[0] for i in range(5)]

    assert isinstance(kinds[0], MessageEvent)
    assert isinstance(kinds[0].message, TextMessageContent)
    assert isinstance(kinds[1].message, ImageMessageContent)
    assert kinds[1].message.content_provider.type == "line"
    assert isinstance(kinds[2], PostbackEvent)
    assert kinds[2].postback.data == "order.confirm:1001"
    assert isinstance(kinds[3], UnfollowEvent)
    assert "replyToken" not in json.loads(transport.sent[3][1])["events"][0]
    assert isinstance(kinds[4], FollowEvent)
    assert kinds[4].follow.is_unblocked is True


def test_sticker(actions, amy, transport):
    actions.send_sticker("main", amy.user_id, "446", "1988")
    event = parse_line(transport).events[0]
    assert isinstance(event.message, StickerMessageContent)
    assert event.message.sticker_id == "1988"


def test_event_ids_are_unique(amy):
    first, second = amy.says("a"), amy.says("b")
    assert first.event["webhookEventId"] != second.event["webhookEventId"]
    assert first.event["replyToken"] != second.event["replyToken"]


def test_line_redelivery_keeps_ids_and_marks_it(actions, amy, transport, emulator):
    original = amy.says("hi")

    again = actions.redeliver(original)

    event = parse_line(transport).events[0]
    assert event.webhook_event_id == original.event["webhookEventId"]
    assert event.reply_token == original.event["replyToken"]
    assert event.delivery_context.is_redelivery is True
    assert again.status == 200
    assert len(emulator.transcript(LINE, "main", amy.user_id)) == 1


def test_bad_signature_is_not_the_real_one(actions, amy, transport):
    delivery = amy.says("hi")

    actions.send_with_bad_signature(delivery)

    (_, body1, good), (_, body2, bad) = transport.sent
    assert body1 == body2
    assert bad["x-line-signature"] != good["x-line-signature"]


def test_service_status_is_returned(amy, transport):
    transport.status = 400
    assert amy.says("hi").status == 400


def messenger_sent(transport, index: int = -1) -> tuple[dict, dict]:
    _, body, headers = transport.sent[index]
    expected = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
    payload = json.loads(body)
    return payload, payload["entry"][0]["messaging"][0]


def test_messenger_text_body(amy_fb, transport):
    amy_fb.says("有貨嗎")

    payload, event = messenger_sent(transport)
    assert payload["object"] == "page"
    assert payload["entry"][0]["id"] == "PAGE1"
    assert payload["entry"][0]["time"] == int(START.timestamp() * 1000)
    assert event["sender"] == {"id": amy_fb.user_id}
    assert event["recipient"] == {"id": "PAGE1"}
    assert event["message"]["text"] == "有貨嗎"
    assert event["message"]["mid"].startswith("m_")


def test_messenger_quick_reply_postback_and_referral(amy_fb, transport):
    amy_fb.taps("pay:transfer", "銀行轉帳", quick_reply=True)
    amy_fb.taps("order.confirm:1", "確認訂單")
    amy_fb.opens_link("bind-123456")

    _, quick = messenger_sent(transport, 0)
    _, button = messenger_sent(transport, 1)
    _, link = messenger_sent(transport, 2)
    assert quick["message"]["quick_reply"] == {"payload": "pay:transfer"}
    assert quick["message"]["text"] == "銀行轉帳"
    assert button["postback"]["payload"] == "order.confirm:1"
    assert button["postback"]["title"] == "確認訂單"
    assert link["referral"] == {"ref": "bind-123456", "source": "SHORTLINK", "type": "OPEN_THREAD"}


def test_messenger_image_is_hosted_by_the_sandbox(amy_fb, transport, emulator):
    amy_fb.sends_image(b"\xff\xd8 slip", "image/jpeg")

    _, event = messenger_sent(transport)
    [attachment] = event["message"]["attachments"]
    url = attachment["payload"]["url"]
    media_id = url.rsplit("/", 1)[1]
    assert attachment["type"] == "image"
    assert url.startswith("http://127.0.0.1:9/sandbox/media/")
    assert emulator.media(media_id).content == b"\xff\xd8 slip"


def test_messenger_redelivery_is_byte_identical(actions, amy_fb, transport):
    original = amy_fb.says("hi")
    actions.redeliver(original)
    assert transport.sent[0][1] == transport.sent[1][1]


def test_transcript_keeps_both_sides_in_order(emulator, amy, transport):
    delivery = amy.says("我要買")
    body = {
        "replyToken": delivery.event["replyToken"],
        "messages": [{"type": "text", "text": "好的"}],
    }
    line_call(emulator, "POST", "/v2/bot/message/reply", body)

    entries = emulator.transcript(LINE, "main", amy.user_id)

    assert [(e.direction, e.index) for e in entries] == [("in", 0), ("out", 1)]
    assert entries[0].message == {"kind": "text", "text": "我要買"}
    assert emulator.transcript(LINE, "main", amy.user_id, since=1) == entries[1:]


def test_account_without_webhook_url(emulator, transport):
    emulator.add_line_channel("quiet", channel_secret="s", access_token="t")
    actions = CustomerActions(emulator, transport=transport)
    with pytest.raises(RuntimeError):
        actions.customer(LINE, "quiet", "someone").says("hi")


def test_unknown_user_is_refused(actions):
    with pytest.raises(LookupError):
        actions.say(LINE, "main", "U" + "0" * 32, "hi")

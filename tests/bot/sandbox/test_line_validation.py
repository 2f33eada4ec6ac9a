"""LINE message-object limits: what the server rejects with 400 and details."""

from __future__ import annotations

import pytest

from bot.sandbox import LINE
from bot.sandbox.line_validation import utf16_len, validate_messages
from tests.bot.sandbox.conftest import line_call


def postback(label: str = "確認", data: str = "order.confirm:1") -> dict:
    return {"type": "postback", "label": label, "data": data}


def buttons(**template: object) -> dict:
    body = {"type": "buttons", "text": "請確認訂單", "actions": [postback()], **template}
    return {"type": "template", "altText": "訂單確認", "template": body}


def quick_reply(count: int, label: str = "匯款") -> dict:
    items = [{"type": "action", "action": postback(label)} for _ in range(count)]
    return {"type": "text", "text": "付款方式?", "quickReply": {"items": items}}


def flex_bubble(button_label: str = "確認訂單") -> dict:
    return {
        "type": "flex",
        "altText": "訂單 #1001",
        "contents": {
            "type": "bubble",
            "body": {
                "type": "box",
                "layout": "vertical",
                "contents": [{"type": "text", "text": "訂單 #1001"}],
            },
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [{"type": "button", "action": postback(button_label)}],
            },
        },
    }


VALID = [
    {"type": "text", "text": "x" * 5000},
    {"type": "text", "text": "😀" * 2500},
    buttons(title="t" * 40, text="x" * 60),
    buttons(text="x" * 160),
    {
        "type": "template",
        "altText": "a" * 1500,
        "template": {
            "type": "confirm",
            "text": "x" * 240,
            "actions": [postback("是"), {"type": "message", "label": "否", "text": "否"}],
        },
    },
    quick_reply(13),
    {
        "type": "text",
        "text": "請上傳匯款單",
        "quickReply": {
            "items": [{"type": "action", "action": {"type": "cameraRoll", "label": "相簿"}}]
        },
    },
    flex_bubble("b" * 40),
    {
        "type": "image",
        "originalContentUrl": "https://e.x/a.jpg",
        "previewImageUrl": "https://e.x/p.jpg",
    },
    {"type": "sticker", "packageId": "446", "stickerId": "1988"},
]

INVALID = [
    ({"type": "text", "text": "x" * 5001}, "messages[0].text"),
    ({"type": "text", "text": "😀" * 2501}, "messages[0].text"),
    ({"type": "text", "text": ""}, "messages[0].text"),
    ({"type": "video"}, "messages[0].type"),
    (buttons(title="t" * 41), "messages[0].template.title"),
    (buttons(title="訂單", text="x" * 61), "messages[0].template.text"),
    (buttons(text="x" * 161), "messages[0].template.text"),
    (buttons(actions=[postback()] * 5), "messages[0].template.actions"),
    (buttons(actions=[postback(label="l" * 21)]), "messages[0].template.actions[0].label"),
    (buttons(actions=[postback(data="d" * 301)]), "messages[0].template.actions[0].data"),
    (
        buttons(actions=[{"type": "uri", "label": "付款", "uri": "ftp://x"}]),
        "messages[0].template.actions[0].uri",
    ),
    (
        buttons(actions=[{"type": "uri", "label": "付款", "uri": "https://x/" + "a" * 1000}]),
        "messages[0].template.actions[0].uri",
    ),
    (
        buttons(actions=[{"type": "cameraRoll", "label": "相簿"}]),
        "messages[0].template.actions[0].type",
    ),
    ({**buttons(), "altText": "a" * 1501}, "messages[0].altText"),
    (
        {
            "type": "template",
            "altText": "a",
            "template": {"type": "confirm", "text": "?", "actions": [postback()]},
        },
        "messages[0].template.actions",
    ),
    (
        {
            "type": "template",
            "altText": "a",
            "template": {"type": "confirm", "text": "x" * 241, "actions": [postback()] * 2},
        },
        "messages[0].template.text",
    ),
    (quick_reply(14), "messages[0].quickReply.items"),
    (quick_reply(1, label="l" * 21), "messages[0].quickReply.items[0].action.label"),
    (flex_bubble("b" * 41), "messages[0].contents.footer.contents[0].action.label"),
    ({**flex_bubble(), "altText": "a" * 1501}, "messages[0].altText"),
    (
        {"type": "flex", "altText": "a", "contents": {"type": "carousel", "contents": [{}] * 13}},
        "messages[0].contents.contents",
    ),
    (
        {
            "type": "image",
            "originalContentUrl": "https://e.x/" + "a" * 2000,
            "previewImageUrl": "https://e.x/p",
        },
        "messages[0].originalContentUrl",
    ),
]


def test_utf16_length_counts_emoji_as_two():
    assert utf16_len("訂單😀") == 4


@pytest.mark.parametrize("message", VALID)
def test_valid_messages_pass(message):
    assert validate_messages([message]) == []


@pytest.mark.parametrize(("message", "prop"), INVALID)
def test_limit_violation_names_the_property(message, prop):
    details = validate_messages([message])
    assert prop in [detail["property"] for detail in details]


@pytest.mark.parametrize("count", [0, 6])
def test_one_to_five_messages(count):
    messages = [{"type": "text", "text": "hi"}] * count
    assert validate_messages(messages)[0]["property"] == "messages"


def test_push_with_a_bad_message_is_400_with_details(emulator, actions):
    amy = actions.customer(LINE, "main", "王小美")
    body = {"to": amy.user_id, "messages": [buttons(title="t" * 41, text="x" * 61)]}

    response = line_call(emulator, "POST", "/v2/bot/message/push", body)

    assert response.status == 400
    assert response.payload["message"] == "The request body has 2 error(s)"
    assert {d["property"] for d in response.payload["details"]} == {
        "messages[0].template.title",
        "messages[0].template.text",
    }
    assert all(d["message"] for d in response.payload["details"])
    assert amy.seen() == []

"""Messenger's Send API and profile rules in the emulator."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.sandbox import MESSENGER
from tests.bot.sandbox.conftest import PAGE_TOKEN, graph_call, send

DAY = 24 * 3600


@pytest.fixture
def amy_chen(actions):
    """A Messenger customer who has just written to the page."""
    customer = actions.customer(MESSENGER, "PAGE1", "Amy Chen")
    customer.says("請問有貨嗎")
    return customer


def error_of(response) -> tuple[int, int | None]:
    error = response.payload["error"]
    return error["code"], error.get("error_subcode")


def test_send_inside_window_is_delivered(emulator, amy_chen):
    response = send(emulator, amy_chen.user_id, {"text": "有的"})

    assert response.status == 200
    assert response.payload["recipient_id"] == amy_chen.user_id
    assert response.payload["message_id"].startswith("m_")
    assert amy_chen.seen() == [{"text": "有的"}]
    [call] = emulator.calls(MESSENGER, "send")
    assert (call.account, call.recipient, call.status) == ("PAGE1", amy_chen.user_id, 200)


def test_any_graph_version_is_accepted(emulator, amy_chen):
    body = {
        "recipient": {"id": amy_chen.user_id},
        "messaging_type": "UPDATE",
        "message": {"text": "x"},
    }
    assert graph_call(emulator, "POST", "/v26.0/me/messages", body).status == 200


def test_response_outside_24_hours_is_refused(emulator, amy_chen):
    emulator.advance(DAY + 1)

    response = send(emulator, amy_chen.user_id, {"text": "您的訂單已出貨"})

    assert response.status == 400
    assert error_of(response) == (10, 2018278)
    assert amy_chen.seen() == []


def test_a_new_message_reopens_the_window(emulator, amy_chen):
    emulator.advance(DAY + 1)
    amy_chen.says("還在嗎")
    assert send(emulator, amy_chen.user_id).status == 200


def test_person_who_never_wrote_is_outside_the_window(emulator, actions):
    quiet = actions.customer(MESSENGER, "PAGE1", "林小靜")
    assert error_of(send(emulator, quiet.user_id)) == (10, 2018278)


@pytest.mark.parametrize(
    ("elapsed", "status"), [(DAY + 1, 200), (7 * DAY - 1, 200), (7 * DAY + 1, 400)]
)
def test_human_agent_tag_allows_seven_days(emulator, amy_chen, elapsed, status):
    emulator.advance(elapsed)
    response = send(
        emulator,
        amy_chen.user_id,
        {"text": "客服回覆"},
        messaging_type="MESSAGE_TAG",
        tag="HUMAN_AGENT",
    )
    assert response.status == status


@pytest.mark.parametrize(
    "tag", ["CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE"]
)
def test_retired_tags_are_error_100(emulator, amy_chen, tag):
    response = send(emulator, amy_chen.user_id, messaging_type="MESSAGE_TAG", tag=tag)
    assert response.status == 400
    assert error_of(response)[0] == 100


def test_message_tag_needs_a_tag(emulator, amy_chen):
    response = send(emulator, amy_chen.user_id, messaging_type="MESSAGE_TAG")
    assert error_of(response)[0] == 100


def test_messaging_type_is_required(emulator, amy_chen):
    body = {"recipient": {"id": amy_chen.user_id}, "message": {"text": "hi"}}
    response = graph_call(emulator, "POST", "/v25.0/me/messages", body)
    assert error_of(response)[0] == 100


def test_bad_token_is_error_190(emulator, amy_chen):
    body = {
        "recipient": {"id": amy_chen.user_id},
        "messaging_type": "RESPONSE",
        "message": {"text": "x"},
    }
    response = graph_call(emulator, "POST", "/v25.0/me/messages", body, token="bad")
    assert response.status == 400
    assert response.payload["error"]["code"] == 190
    assert response.payload["error"]["type"] == "OAuthException"


def test_appsecret_proof_is_checked_when_given(emulator, amy_chen):
    good = hmac.new(b"app-secret", PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()
    body = {
        "recipient": {"id": amy_chen.user_id},
        "messaging_type": "RESPONSE",
        "message": {"text": "x"},
    }
    path = "/v25.0/me/messages"

    ok = graph_call(emulator, "POST", path, body, query={"appsecret_proof": good})
    bad = graph_call(emulator, "POST", path, body, query={"appsecret_proof": "0" * 64})

    assert ok.status == 200
    assert bad.status == 400


def test_unknown_recipient(emulator):
    assert error_of(send(emulator, "1234567890123456")) == (100, 2018001)


def test_typing_indicator_is_accepted_but_not_shown(emulator, amy_chen):
    body = {"recipient": {"id": amy_chen.user_id}, "sender_action": "typing_on"}
    response = graph_call(emulator, "POST", "/v25.0/me/messages", body)
    assert response.status == 200
    assert amy_chen.seen() == []


def button_template(text: str = "確認訂單?", buttons: list | None = None) -> dict:
    buttons = buttons if buttons is not None else [postback()]
    payload = {"template_type": "button", "text": text, "buttons": buttons}
    return {"attachment": {"type": "template", "payload": payload}}


def postback(title: str = "確認", payload: str = "order.confirm:1") -> dict:
    return {"type": "postback", "title": title, "payload": payload}


def generic(count: int, title: str = "商品", subtitle: str = "NT$100") -> dict:
    element = {"title": title, "subtitle": subtitle, "buttons": [postback()]}
    payload = {"template_type": "generic", "elements": [element] * count}
    return {"attachment": {"type": "template", "payload": payload}}


def quick_replies(count: int, title: str = "匯款") -> dict:
    reply = {"content_type": "text", "title": title, "payload": "pay:transfer"}
    return {"text": "付款方式?", "quick_replies": [reply] * count}


VALID = [
    {"text": "x" * 1999},
    button_template("x" * 640, [postback()] * 3),
    button_template(
        buttons=[{"type": "web_url", "url": "https://shop.example/o/1", "title": "查看"}]
    ),
    generic(10, "t" * 80, "s" * 80),
    quick_replies(13),
    {"attachment": {"type": "image", "payload": {"url": "https://shop.example/a.png"}}},
]

INVALID = [
    {"text": "x" * 2000},
    {"text": ""},
    {"text": "hi", "metadata": "m" * 1000},
    button_template("x" * 641),
    button_template(buttons=[]),
    button_template(buttons=[postback()] * 4),
    button_template(buttons=[postback(title="t" * 21)]),
    button_template(buttons=[postback(payload="p" * 1001)]),
    button_template(buttons=[{"type": "web_url", "title": "查看"}]),
    generic(11),
    generic(1, title="t" * 81),
    generic(1, subtitle="s" * 81),
    quick_replies(14),
    quick_replies(1, title="t" * 21),
    {"attachment": {"type": "template", "payload": {"template_type": "receipt"}}},
]


@pytest.mark.parametrize("message", VALID)
def test_valid_messages_are_sent(emulator, amy_chen, message):
    assert send(emulator, amy_chen.user_id, message).status == 200


@pytest.mark.parametrize("message", INVALID)
def test_limit_violations_are_error_100(emulator, amy_chen, message):
    response = send(emulator, amy_chen.user_id, message)
    assert response.status == 400
    assert error_of(response)[0] == 100
    assert response.payload["error"]["message"].startswith("(#100)")
    assert amy_chen.seen() == []


def test_profile_returns_requested_fields(emulator, amy_chen):
    response = graph_call(
        emulator, "GET", f"/v25.0/{amy_chen.user_id}", query={"fields": "first_name,last_name,name"}
    )
    assert response.status == 200
    assert response.payload == {
        "first_name": "Amy",
        "last_name": "Chen",
        "name": "Amy Chen",
        "id": amy_chen.user_id,
    }


def test_profile_of_a_chinese_name_without_space(emulator, actions):
    amy = actions.customer(MESSENGER, "PAGE1", "王小美")
    response = graph_call(emulator, "GET", f"/v25.0/{amy.user_id}")
    assert response.payload == {"first_name": "小美", "last_name": "王", "id": amy.user_id}


def test_profile_of_a_stranger(emulator):
    response = graph_call(emulator, "GET", "/v25.0/999")
    assert response.status == 400
    assert response.payload["error"]["code"] == 100

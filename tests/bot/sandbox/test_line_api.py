"""LINE's reply, push, quota, profile and content rules in the emulator."""

from __future__ import annotations

import uuid

from bot.sandbox import LINE, CustomerActions, FaultRule, PlatformEmulator
from tests.bot.sandbox.conftest import line_call, push

REPLY = "/v2/bot/message/reply"


def reply(emu: PlatformEmulator, token: str, text: str = "好的"):
    body = {"replyToken": token, "messages": [{"type": "text", "text": text}]}
    return line_call(emu, "POST", REPLY, body)


def customer_says(actions: CustomerActions, text: str = "我要買") -> tuple[str, str]:
    """Returns (user id, reply token) of a LINE message the customer just sent."""
    amy = actions.customer(LINE, "main", "王小美")
    delivery = amy.says(text)
    return amy.user_id, delivery.event["replyToken"]


def test_reply_token_works_once(emulator, actions):
    user_id, token = customer_says(actions)

    first = reply(emulator, token, "收到")
    second = reply(emulator, token, "再一次")

    assert first.status == 200
    assert len(first.payload["sentMessages"]) == 1
    assert second.status == 400
    assert second.payload == {"message": "Invalid reply token"}
    assert emulator.delivered(LINE, "main", user_id) == [{"type": "text", "text": "收到"}]


def test_reply_token_expires_after_ttl(emulator, actions):
    _, token = customer_says(actions)

    emulator.advance(61)

    assert reply(emulator, token).status == 400


def test_reply_token_still_valid_just_before_ttl(emulator, actions):
    _, token = customer_says(actions)

    emulator.advance(59)

    assert reply(emulator, token).status == 200


def test_reply_token_ttl_is_configurable(clock, transport):
    emu = PlatformEmulator(clock, reply_token_ttl=5)
    emu.add_line_channel("main", channel_secret="s", access_token="line-token", webhook_url="x")
    actions = CustomerActions(emu, transport=transport)
    _, token = customer_says(actions)

    emu.advance(6)

    assert reply(emu, token).status == 400


def test_unknown_reply_token_is_invalid(emulator):
    response = reply(emulator, "never-issued")
    assert response.status == 400
    assert response.payload["message"] == "Invalid reply token"


def test_invalid_message_does_not_spend_the_token(emulator, actions):
    _, token = customer_says(actions)

    bad = reply(emulator, token, "x" * 5001)
    good = reply(emulator, token, "ok")

    assert bad.status == 400
    assert good.status == 200


def test_wrong_access_token_is_401_and_logged(emulator):
    response = line_call(emulator, "POST", REPLY, {"replyToken": "t"}, token="nope")

    assert response.status == 401
    assert response.headers["X-Line-Request-Id"]
    [call] = emulator.calls(LINE)
    assert (call.endpoint, call.status, call.account) == ("reply", 401, None)


def test_every_response_has_a_request_id(emulator, actions):
    user_id, _ = customer_says(actions)
    responses = [
        push(emulator, user_id),
        line_call(emulator, "GET", "/v2/bot/message/quota"),
        line_call(emulator, "GET", "/v2/bot/nothing-here"),
    ]
    ids = {response.headers["X-Line-Request-Id"] for response in responses}
    assert len(ids) == 3


def test_push_delivers_and_is_recorded(emulator, actions):
    user_id, _ = customer_says(actions)

    response = push(emulator, user_id, "訂單已出貨")

    assert response.status == 200
    assert emulator.delivered(LINE, "main", user_id) == [{"type": "text", "text": "訂單已出貨"}]
    [call] = emulator.calls(LINE, "push")
    assert call.recipient == user_id
    assert call.messages == [{"type": "text", "text": "訂單已出貨"}]
    assert call.status == 200
    assert call.delivered


def test_push_to_unknown_user_fails(emulator):
    response = push(emulator, "U" + "0" * 32)
    assert response.status == 400
    assert response.payload["message"] == "Failed to send messages"


def test_retry_key_resend_is_409_without_second_delivery(emulator, actions):
    user_id, _ = customer_says(actions)
    key = str(uuid.uuid4())

    first = push(emulator, user_id, "付款成功", retry_key=key)
    again = push(emulator, user_id, "付款成功", retry_key=key)

    assert first.status == 200
    assert again.status == 409
    assert again.payload["message"] == "The retry key is already accepted"
    assert again.payload["sentMessages"] == first.payload["sentMessages"]
    assert again.headers["x-line-accepted-request-id"] == first.headers["X-Line-Request-Id"]
    assert emulator.delivered(LINE, "main", user_id) == [{"type": "text", "text": "付款成功"}]
    assert emulator.line.usage("main") == 1


def test_retry_key_is_forgotten_after_24_hours(emulator, actions):
    user_id, _ = customer_says(actions)
    key = str(uuid.uuid4())
    push(emulator, user_id, retry_key=key)

    emulator.advance(24 * 3600 + 1)

    assert push(emulator, user_id, retry_key=key).status == 200


def test_retry_key_of_a_failed_push_is_not_accepted(emulator, actions):
    user_id, _ = customer_says(actions)
    key = str(uuid.uuid4())
    emulator.faults.add(FaultRule(channel="line", endpoint="push", status=500))

    assert push(emulator, user_id, retry_key=key).status == 500
    assert push(emulator, user_id, retry_key=key).status == 200
    assert len(emulator.delivered(LINE, "main", user_id)) == 1


def test_retry_key_must_be_a_uuid(emulator, actions):
    user_id, _ = customer_says(actions)
    assert push(emulator, user_id, retry_key="not-a-uuid").status == 400


def test_monthly_limit_gives_429(emulator, actions):
    emulator.line_channel("main").monthly_limit = 2
    user_id, _ = customer_says(actions)

    statuses = [push(emulator, user_id, f"#{n}").status for n in range(3)]
    last = push(emulator, user_id)

    assert statuses == [200, 200, 429]
    assert last.payload == {"message": "You have reached your monthly limit."}
    assert len(emulator.delivered(LINE, "main", user_id)) == 2


def test_quota_endpoints(emulator, actions):
    user_id, token = customer_says(actions)
    none = line_call(emulator, "GET", "/v2/bot/message/quota")
    emulator.line_channel("main").monthly_limit = 500
    push(emulator, user_id)
    push(emulator, user_id)
    reply(emulator, token)

    limited = line_call(emulator, "GET", "/v2/bot/message/quota")
    consumption = line_call(emulator, "GET", "/v2/bot/message/quota/consumption")

    assert none.payload == {"type": "none"}
    assert limited.payload == {"type": "limited", "value": 500}
    assert consumption.payload == {"totalUsage": 2}


def test_push_to_a_blocking_user_is_accepted_but_not_delivered(emulator, actions):
    amy = actions.customer(LINE, "main", "王小美")
    amy.says("hi")
    amy.unfollows()

    response = push(emulator, amy.user_id)

    assert response.status == 200
    assert amy.seen() == []
    assert emulator.line.usage("main") == 0


def test_profile(emulator, actions):
    amy = actions.customer(LINE, "main", "王小美")

    found = line_call(emulator, "GET", f"/v2/bot/profile/{amy.user_id}")
    missing = line_call(emulator, "GET", "/v2/bot/profile/U" + "f" * 32)

    assert found.status == 200
    assert found.payload == {"userId": amy.user_id, "displayName": "王小美"}
    assert missing.status == 404


def test_content_of_a_customer_image(emulator, actions):
    amy = actions.customer(LINE, "main", "王小美")
    delivery = amy.sends_image(b"\x89PNG fake", "image/png")
    message_id = delivery.event["message"]["id"]

    found = line_call(emulator, "GET", f"/v2/bot/message/{message_id}/content")
    missing = line_call(emulator, "GET", "/v2/bot/message/123/content")

    assert (found.status, found.content, found.content_type) == (200, b"\x89PNG fake", "image/png")
    assert missing.status == 404


def test_content_of_another_channel_is_not_found(emulator, actions):
    emulator.add_line_channel("second", channel_secret="s2", access_token="t2", webhook_url="x")
    amy = actions.customer(LINE, "main", "王小美")
    message_id = amy.sends_image(b"img").event["message"]["id"]

    response = line_call(emulator, "GET", f"/v2/bot/message/{message_id}/content", token="t2")

    assert response.status == 404


def test_reply_token_of_another_channel_is_invalid(emulator, actions):
    emulator.add_line_channel("second", channel_secret="s2", access_token="t2", webhook_url="x")
    _, token = customer_says(actions)
    body = {"replyToken": token, "messages": [{"type": "text", "text": "hi"}]}

    assert line_call(emulator, "POST", REPLY, body, token="t2").status == 400

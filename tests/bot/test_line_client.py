"""LineClient against a loopback server: what goes on the wire, and how each
platform answer becomes a result or a typed error."""

from __future__ import annotations

import socket

import pytest

from bot.events import MediaGone, MediaTooLarge
from bot.line_client import LineApiError, LineClient, SendResult
from bot.line_render import render_line
from bot.messages import CameraRollAction, PostbackAction, Text
from tests.bot.fake_platform_server import FakePlatformServer

TOKEN = "test-access-token"
RETRY_KEY = "123e4567-e89b-12d3-a456-426614174000"
HELLO = [{"type": "text", "text": "您好"}]


@pytest.fixture
def api():
    with FakePlatformServer() as server:
        yield server


@pytest.fixture
def data_api():
    with FakePlatformServer() as server:
        yield server


@pytest.fixture
def client(api, data_api):
    line = LineClient(TOKEN, api_base=api.base_url + "/", data_api_base=data_api.base_url,
                      timeout=(2, 2))
    yield line
    line.close()


def error_from(call) -> LineApiError:
    with pytest.raises(LineApiError) as info:
        call()
    return info.value


def test_reply_posts_the_token_and_messages_with_bearer_auth(api, client):
    api.reply("POST", "/v2/bot/message/reply", json_body={"sentMessages": [{"id": "m1"}]},
              headers={"X-Line-Request-Id": "req-1"})
    result = client.reply("reply-token", HELLO)
    assert result == SendResult("req-1", ("m1",))
    request = api.only_request()
    assert (request.method, request.path) == ("POST", "/v2/bot/message/reply")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert "x-line-retry-key" not in request.headers
    assert request.json() == {"replyToken": "reply-token", "messages": HELLO,
                              "notificationDisabled": False}


def test_sends_carry_the_sdks_user_agent_and_token(api, client):
    for _ in range(2):
        api.reply("POST", "/v2/bot/message/reply", json_body={"sentMessages": []})
    client.reply("t1", HELLO)
    client.reply("t2", HELLO)
    first, second = api.requests
    assert first.headers["user-agent"].startswith("line-bot-sdk-python/")
    assert first.headers["accept"] == "application/json"
    assert second.headers["authorization"] == f"Bearer {TOKEN}"
    assert second.json()["replyToken"] == "t2"


def test_rendered_messages_go_out_unchanged(api, client):
    api.reply("POST", "/v2/bot/message/reply", json_body={"sentMessages": [{"id": "m1"}]})
    [batch] = render_line([Text("付款方式", quick_replies=(CameraRollAction("上傳"),
                                                      PostbackAction("轉帳", "pay:atm")))])
    client.reply("reply-token", batch)
    assert api.only_request().json()["messages"] == batch


def test_used_reply_token_is_recognised(api, client):
    api.reply("POST", "/v2/bot/message/reply", status=400,
              json_body={"message": "Invalid reply token"}, headers={"X-Line-Request-Id": "r"})
    error = error_from(lambda: client.reply("old", HELLO))
    assert error.status == 400
    assert error.is_invalid_reply_token
    assert not error.is_retryable
    assert error.request_id == "r"


def test_push_sends_the_retry_key(api, client):
    api.reply("POST", "/v2/bot/message/push",
              json_body={"sentMessages": [{"id": "m7"}, {"id": "m8"}]},
              headers={"X-Line-Request-Id": "req-7"})
    result = client.push("U123", HELLO * 2, RETRY_KEY)
    assert result == SendResult("req-7", ("m7", "m8"), already_accepted=False)
    request = api.only_request()
    assert request.path == "/v2/bot/message/push"
    assert request.headers["x-line-retry-key"] == RETRY_KEY
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json()["to"] == "U123"
    assert request.json()["messages"] == HELLO * 2


def test_push_already_accepted_409_is_success(api, client):
    api.reply("POST", "/v2/bot/message/push", status=409,
              json_body={"message": "The retry key is already accepted",
                         "sentMessages": [{"id": "m7"}]},
              headers={"x-line-accepted-request-id": "first-req", "X-Line-Request-Id": "r2"})
    result = client.push("U123", HELLO, RETRY_KEY)
    assert result == SendResult("first-req", ("m7",), already_accepted=True)


def test_push_success_with_an_odd_body_still_counts_as_sent(api, client):
    api.reply("POST", "/v2/bot/message/push", body=b"not json")
    assert client.push("U123", HELLO, RETRY_KEY) == SendResult(None, ())


def test_push_refuses_a_key_that_is_not_a_uuid_without_calling(api, client):
    with pytest.raises(ValueError):
        client.push("U123", HELLO, "retry-1")
    assert api.requests == []


def test_more_than_five_messages_are_refused_before_sending(api, client):
    with pytest.raises(ValueError):
        client.push("U123", HELLO * 6, RETRY_KEY)
    assert api.requests == []


def test_monthly_limit_is_not_retryable(api, client):
    api.reply("POST", "/v2/bot/message/push", status=429,
              json_body={"message": "You have reached your monthly limit."})
    error = error_from(lambda: client.push("U123", HELLO, RETRY_KEY))
    assert error.is_monthly_limit
    assert not error.is_rate_limited
    assert not error.is_retryable


def test_rate_limit_is_retryable_with_retry_after(api, client):
    api.reply("POST", "/v2/bot/message/push", status=429,
              json_body={"message": "The API rate limit has been exceeded. Try again later."},
              headers={"Retry-After": "3"})
    error = error_from(lambda: client.push("U123", HELLO, RETRY_KEY))
    assert error.is_rate_limited and error.is_retryable
    assert error.retry_after == 3.0


def test_server_errors_are_retryable_and_keep_details(api, client):
    api.reply("POST", "/v2/bot/message/push", status=500,
              json_body={"message": "Internal error",
                         "details": [{"message": "oops", "property": "messages[0]"}]},
              headers={"X-Line-Request-Id": "r500"})
    error = error_from(lambda: client.push("U123", HELLO, RETRY_KEY))
    assert error.status == 500 and error.is_retryable
    assert error.request_id == "r500"
    assert "messages[0]: oops" in error.message


def test_bad_request_details_are_in_the_message(api, client):
    api.reply("POST", "/v2/bot/message/reply", status=400,
              json_body={"message": "The request body has 1 error(s)",
                         "details": [{"message": "Length must be between 0 and 20",
                                      "property": "messages[0].template.actions[0].label"}]})
    error = error_from(lambda: client.reply("t", HELLO))
    assert not error.is_invalid_reply_token and not error.is_retryable
    assert "label" in error.message


def test_timeout_is_a_retryable_status_0(api):
    api.reply("POST", "/v2/bot/message/push", hang=True)
    line = LineClient(TOKEN, api_base=api.base_url, timeout=(1, 0.2))
    error = error_from(lambda: line.push("U123", HELLO, RETRY_KEY))
    assert error.status == 0 and error.is_retryable
    assert len(api.requests) == 1  # no hidden transport retry
    line.close()


def test_unreachable_host_is_a_retryable_status_0():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = LineClient(TOKEN, api_base=f"http://127.0.0.1:{port}", timeout=(1, 1))
    error = error_from(lambda: line.reply("t", HELLO))
    assert error.status == 0 and error.is_retryable


def test_quota_limited_and_none(api, client):
    api.reply("GET", "/v2/bot/message/quota", json_body={"type": "limited", "value": 200})
    api.reply("GET", "/v2/bot/message/quota", json_body={"type": "none"})
    assert client.quota() == 200
    assert client.quota() is None
    assert [r.headers["authorization"] for r in api.requests] == [f"Bearer {TOKEN}"] * 2


def test_quota_consumption(api, client):
    api.reply("GET", "/v2/bot/message/quota/consumption", json_body={"totalUsage": 42})
    assert client.quota_consumption() == 42


def test_unexpected_quota_body_is_an_error(api, client):
    api.reply("GET", "/v2/bot/message/quota/consumption", json_body={"usage": 42})
    with pytest.raises(LineApiError):
        client.quota_consumption()


def test_profile_returns_the_display_name(api, client):
    api.reply("GET", "/v2/bot/profile/U123",
              json_body={"userId": "U123", "displayName": "王小明"})
    assert client.profile("U123") == "王小明"
    assert api.only_request().headers["authorization"] == f"Bearer {TOKEN}"


def test_content_comes_from_the_data_host(api, data_api, client):
    data_api.reply("GET", "/v2/bot/message/325708/content", body=b"\xff\xd8jpeg-bytes",
                   headers={"Content-Type": "image/jpeg"})
    assert client.content("325708", max_bytes=1000) == (b"\xff\xd8jpeg-bytes", "image/jpeg")
    assert api.requests == []
    assert data_api.only_request().headers["authorization"] == f"Bearer {TOKEN}"


def test_content_over_the_limit_is_refused(data_api, client):
    data_api.reply("GET", "/v2/bot/message/1/content", body=b"x" * 101,
                   headers={"Content-Type": "image/png"})
    with pytest.raises(MediaTooLarge) as info:
        client.content("1", max_bytes=100)
    assert (info.value.limit, info.value.size) == (100, 101)


def test_content_without_a_length_stops_at_the_limit(data_api, client):
    data_api.reply("GET", "/v2/bot/message/1/content", body=b"x" * 5000, omit_length=True,
                   headers={"Content-Type": "image/png"})
    with pytest.raises(MediaTooLarge) as info:
        client.content("1", max_bytes=100)
    assert (info.value.limit, info.value.size) == (100, None)


def test_content_ids_are_one_path_segment(data_api, client):
    data_api.reply("GET", "/v2/bot/message/a%2F..%2Fb/content", body=b"img",
                   headers={"Content-Type": "image/png"})
    assert client.content("a/../b", max_bytes=100) == (b"img", "image/png")


@pytest.mark.parametrize("status", [404, 410])
def test_missing_or_unsent_content_is_gone(data_api, client, status):
    data_api.reply("GET", "/v2/bot/message/1/content", status=status,
                   json_body={"message": "Not found"})
    with pytest.raises(MediaGone) as info:
        client.content("1", max_bytes=100)
    assert info.value.status == status


def test_content_server_error_stays_a_line_api_error(data_api, client):
    data_api.reply("GET", "/v2/bot/message/1/content", status=503, body=b"busy")
    error = error_from(lambda: client.content("1", max_bytes=100))
    assert error.status == 503 and error.is_retryable


def test_a_batch_without_messages_is_refused_before_sending(api, client):
    with pytest.raises(ValueError):
        client.reply("reply-token", [])
    assert api.requests == []


def test_fields_the_sdk_models_do_not_know_still_go_out(api, client):
    """The body is posted as built: the SDK's models would drop a field they do not
    know (a newer API's), silently."""
    api.reply("POST", "/v2/bot/message/reply", json_body={"sentMessages": [{"id": "m1"}]})
    message = {"type": "text", "text": "hi", "someNewerField": {"x": 1}}
    client.reply("reply-token", [message])
    assert api.only_request().json()["messages"] == [message]


def test_connections_are_kept_for_every_worker_thread(client):
    from bot.line_client import CONNECTIONS_KEPT

    kept = client._api_client.rest_client.pool_manager.connection_pool_kw["maxsize"]
    assert kept == CONNECTIONS_KEPT >= 32  # chatcart worker's default thread count

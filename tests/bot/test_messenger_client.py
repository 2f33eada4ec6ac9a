"""MessengerClient against a loopback server: the Send API request on the wire,
Meta's error codes as typed properties, and capped attachment downloads."""

from __future__ import annotations

import hashlib
import hmac
import socket

import pytest

from bot.events import MediaGone, MediaTooLarge
from bot.messages import PostbackAction, Text
from bot.messenger_client import MessengerApiError, MessengerClient
from bot.messenger_render import render_messenger
from tests.bot.fake_platform_server import FakePlatformServer

TOKEN = "page-token"
SECRET = "app-secret"
SEND = "/v25.0/me/messages"
PROOF = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def graph():
    with FakePlatformServer() as server:
        yield server


@pytest.fixture
def client(graph):
    return MessengerClient(TOKEN, app_secret=SECRET, graph_base=graph.base_url + "/v25.0/",
                           timeout=2)


def graph_error(graph, status, code, subcode=None, headers=None):
    error = {"message": "boom", "type": "OAuthException", "code": code, "fbtrace_id": "x"}
    if subcode is not None:
        error["error_subcode"] = subcode
    graph.reply("POST", SEND, status=status, json_body={"error": error}, headers=headers)


def send_error(client) -> MessengerApiError:
    with pytest.raises(MessengerApiError) as info:
        client.send("PSID1", {"text": "hi"})
    return info.value


def test_send_posts_recipient_type_and_message_with_token_and_proof(graph, client):
    graph.reply("POST", SEND, json_body={"recipient_id": "PSID1", "message_id": "m_1"})
    assert client.send("PSID1", {"text": "您好"}) == "m_1"
    request = graph.only_request()
    assert (request.method, request.path) == ("POST", SEND)
    assert request.query == {"access_token": [TOKEN], "appsecret_proof": [PROOF]}
    assert request.json() == {"recipient": {"id": "PSID1"}, "messaging_type": "RESPONSE",
                              "message": {"text": "您好"}}


def test_rendered_messages_go_out_unchanged(graph, client):
    graph.reply("POST", SEND, json_body={"message_id": "m_2"})
    [message] = render_messenger([Text("付款？", quick_replies=(PostbackAction("轉帳", "pay"),))])
    client.send("PSID1", message)
    assert graph.only_request().json()["message"] == message


def test_human_agent_tag_uses_message_tag(graph, client):
    graph.reply("POST", SEND, json_body={"message_id": "m_3"})
    client.send("PSID1", {"text": "客服回覆"}, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    body = graph.only_request().json()
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_tag_and_messaging_type_must_agree(graph, client):
    with pytest.raises(ValueError):
        client.send("PSID1", {"text": "x"}, tag="HUMAN_AGENT")
    with pytest.raises(ValueError):
        client.send("PSID1", {"text": "x"}, messaging_type="MESSAGE_TAG")
    assert graph.requests == []


def test_pymessenger_helpers_get_messaging_type_added(graph, client):
    graph.reply("POST", SEND, json_body={"message_id": "m_4"})
    client.send_text_message("PSID1", "hi")
    client.send_raw({"recipient": {"id": "PSID1"}, "messaging_type": "UPDATE",
                     "message": {"text": "x"}})
    client.send_action("PSID1", "typing_on")
    text, update, action = (r.json() for r in graph.requests)
    assert text["messaging_type"] == "RESPONSE"
    assert update["messaging_type"] == "UPDATE"
    assert "messaging_type" not in action and action["sender_action"] == "typing_on"


def test_no_app_secret_means_no_proof(graph):
    graph.reply("POST", SEND, json_body={"message_id": "m_5"})
    MessengerClient(TOKEN, graph_base=graph.base_url + "/v25.0").send("PSID1", {"text": "x"})
    assert graph.only_request().query == {"access_token": [TOKEN]}


def test_success_without_message_id_is_not_an_error(graph, client):
    graph.reply("POST", SEND, body=b"")
    assert client.send("PSID1", {"text": "x"}) is None


def test_outside_the_24h_window(graph, client):
    graph_error(graph, 400, 10, 2018278)
    error = send_error(client)
    assert error.is_outside_window and not error.is_retryable
    assert (error.status, error.code, error.subcode) == (400, 10, 2018278)


def test_user_unavailable_is_not_retried(graph, client):
    graph_error(graph, 400, 551, 1545041)
    error = send_error(client)
    assert error.is_user_unavailable and not error.is_retryable


@pytest.mark.parametrize("status,code", [(400, 613), (400, 4), (429, None)])
def test_rate_limits_are_retryable(graph, client, status, code):
    graph_error(graph, status, code, headers={"Retry-After": "7"})
    error = send_error(client)
    assert error.is_rate_limited and error.is_retryable
    assert error.retry_after == 7.0


@pytest.mark.parametrize("code", [2, 1200])
def test_temporary_errors_are_retryable(graph, client, code):
    graph_error(graph, 500 if code == 2 else 400, code)
    assert send_error(client).is_retryable


def test_bad_token_or_parameter_is_final(graph, client):
    graph_error(graph, 400, 100)
    error = send_error(client)
    assert not error.is_retryable and not error.is_rate_limited
    assert error.message == "boom"


def test_server_error_without_json_is_retryable(graph, client):
    graph.reply("POST", SEND, status=502, body=b"<html>bad gateway</html>")
    error = send_error(client)
    assert (error.status, error.code) == (502, None)
    assert error.is_retryable
    assert "bad gateway" in error.message


def test_error_body_with_200_is_still_an_error(graph, client):
    graph_error(graph, 200, 100)
    assert send_error(client).code == 100


def test_timeout_is_a_retryable_status_0(graph):
    graph.reply("POST", SEND, hang=True)
    slow = MessengerClient(TOKEN, graph_base=graph.base_url + "/v25.0", timeout=0.2)
    error = send_error(slow)
    assert error.status == 0 and error.is_retryable


def test_unreachable_graph_is_a_retryable_status_0():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = send_error(MessengerClient(TOKEN, graph_base=f"http://127.0.0.1:{port}/v25.0",
                                       timeout=1))
    assert error.status == 0 and error.is_retryable


def test_profile_asks_for_name_fields(graph, client):
    graph.reply("GET", "/v25.0/PSID1", json_body={"first_name": "小明", "last_name": "王",
                                                  "name": "王小明", "id": "PSID1"})
    assert client.profile("PSID1") == "王小明"
    request = graph.only_request()
    assert request.query == {"fields": ["first_name,last_name,name"], "access_token": [TOKEN],
                             "appsecret_proof": [PROOF]}


def test_profile_falls_back_to_first_and_last_name(graph, client):
    graph.reply("GET", "/v25.0/PSID1", json_body={"first_name": "Ming", "last_name": "Wang"})
    assert client.profile("PSID1") == "Ming Wang"


def test_profile_errors_are_typed(graph, client):
    graph.reply("GET", "/v25.0/PSID1", status=400,
                json_body={"error": {"message": "no", "code": 100}})
    with pytest.raises(MessengerApiError):
        client.profile("PSID1")
    graph.reply("GET", "/v25.0/PSID2", json_body={"id": "PSID2"})
    with pytest.raises(MessengerApiError):
        client.profile("PSID2")


def test_fetch_attachment_returns_bytes_and_type_without_the_token(graph, client):
    graph.reply("GET", "/cdn/slip.jpg", body=b"\xff\xd8" + b"j" * 500,
                headers={"Content-Type": "image/jpeg"})
    data, content_type = client.fetch_attachment(graph.base_url + "/cdn/slip.jpg?sig=abc", 1000)
    assert (len(data), content_type) == (502, "image/jpeg")
    request = graph.only_request()
    assert request.query == {"sig": ["abc"]}
    assert "access_token" not in request.query


def test_declared_length_over_the_cap_is_refused(graph, client):
    graph.reply("GET", "/cdn/big.jpg", body=b"x" * 5000)
    with pytest.raises(MediaTooLarge) as info:
        client.fetch_attachment(graph.base_url + "/cdn/big.jpg", 1000)
    assert info.value.size == 5000


def test_undeclared_length_is_capped_while_streaming(graph, client):
    graph.reply("GET", "/cdn/big.jpg", body=b"x" * 300_000, omit_length=True)
    with pytest.raises(MediaTooLarge) as info:
        client.fetch_attachment(graph.base_url + "/cdn/big.jpg", 100_000)
    assert info.value.size is None
    graph.reply("GET", "/cdn/ok.jpg", body=b"y" * 1000, omit_length=True)
    assert client.fetch_attachment(graph.base_url + "/cdn/ok.jpg", 1000)[0] == b"y" * 1000


@pytest.mark.parametrize("status", [403, 404, 410])
def test_expired_attachment_is_gone(graph, client, status):
    graph.reply("GET", "/cdn/old.jpg", status=status, body=b"URL signature expired")
    with pytest.raises(MediaGone) as info:
        client.fetch_attachment(graph.base_url + "/cdn/old.jpg", 1000)
    assert info.value.status == status


def test_attachment_server_error_is_retryable(graph, client):
    graph.reply("GET", "/cdn/x.jpg", status=503)
    with pytest.raises(MessengerApiError) as info:
        client.fetch_attachment(graph.base_url + "/cdn/x.jpg", 1000)
    assert info.value.is_retryable

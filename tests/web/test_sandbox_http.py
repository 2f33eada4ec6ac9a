"""The sandbox over real HTTP: the official SDKs and plain requests against it,
and its webhooks against a receiving app that checks signatures like the service."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from flask import Flask, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    ReplyMessageRequest,
    TemplateMessage,
    TextMessage,
)
from linebot.v3.messaging.models import ButtonsTemplate, PostbackAction
from linebot.v3.webhooks import ImageMessageContent, MessageEvent, TextMessageContent
from pymessenger.bot import Bot

from bot.sandbox import LINE, MESSENGER, CustomerActions, PlatformEmulator, SandboxClock
from web.sandbox import ServerHandle, create_emulator_app, serve_in_thread

LINE_SECRET = "line-channel-secret"
LINE_TOKEN = "line-access-token"
PAGE_ID = "105000000000001"
PAGE_TOKEN = "page-access-token"
APP_SECRET = "meta-app-secret"
TIMEOUT = (3, 10)


@dataclass
class Received:
    """What the stand-in service accepted (signature verified)."""

    line: list[Any] = field(default_factory=list)
    messenger: list[dict] = field(default_factory=list)


def receiver_app(received: Received) -> Flask:
    """A minimal webhook endpoint: verifies signatures on the raw body, records it."""
    app = Flask("receiver")
    parser = WebhookParser(LINE_SECRET)

    @app.post("/webhooks/line")
    def line_webhook() -> tuple[str, int]:
        body = request.get_data(as_text=True)
        try:
            payload = parser.parse(body, request.headers.get("X-Line-Signature", ""), True)
        except InvalidSignatureError:
            return "bad signature", 400
        received.line.append(payload)
        return "OK", 200

    @app.post("/webhooks/messenger")
    def messenger_webhook() -> tuple[str, int]:
        raw = request.get_data()
        expected = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            return "bad signature", 403
        received.messenger.append(json.loads(raw))
        return "EVENT_RECEIVED", 200

    return app


@dataclass
class Sandbox:
    emulator: PlatformEmulator
    server: ServerHandle
    received: Received

    @property
    def base(self) -> str:
        return self.server.url + "/sandbox"

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base}/api/{path}", timeout=10, **kwargs)

    def user(self, channel: str, name: str = "王小明") -> str:
        account = "main" if channel == LINE else PAGE_ID
        body = {"channel": channel, "account": account, "display_name": name}
        response = self.api("POST", "users", json=body)
        assert response.status_code == 201
        return response.json()["user_id"]

    def act(self, channel: str, user_id: str, action: str, **kwargs: Any) -> dict:
        account = "main" if channel == LINE else PAGE_ID
        response = self.api(
            "POST", f"conversations/{channel}/{account}/{user_id}/{action}", **kwargs
        )
        assert response.status_code == 200, response.text
        return response.json()

    def line_config(self) -> Configuration:
        return Configuration(access_token=LINE_TOKEN, host=self.base + "/line")


@pytest.fixture
def sandbox():
    received = Received()
    emulator = PlatformEmulator(SandboxClock(datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)))
    with serve_in_thread(receiver_app(received)) as service:
        emulator.add_line_channel(
            "main",
            channel_secret=LINE_SECRET,
            access_token=LINE_TOKEN,
            basic_id="@123abcde",
            webhook_url=service.url + "/webhooks/line",
        )
        emulator.add_messenger_page(
            PAGE_ID,
            page_token=PAGE_TOKEN,
            app_secret=APP_SECRET,
            name="小店",
            webhook_url=service.url + "/webhooks/messenger",
        )
        with serve_in_thread(create_emulator_app(emulator)) as server:
            yield Sandbox(emulator, server, received)


def test_line_message_reaches_the_service_signed_and_parsed(sandbox):
    user_id = sandbox.user(LINE)

    result = sandbox.act(LINE, user_id, "say", json={"text": "我要買兩件"})

    assert result["webhook_status"] == 200
    [payload] = sandbox.received.line
    [event] = payload.events
    assert isinstance(event, MessageEvent)
    assert isinstance(event.message, TextMessageContent)
    assert event.message.text == "我要買兩件"
    assert event.source.user_id == user_id
    assert payload.destination == sandbox.emulator.line_channel("main").bot_user_id


def test_sdk_reply_is_delivered_once_and_the_token_dies(sandbox):
    user_id = sandbox.user(LINE)
    sandbox.act(LINE, user_id, "say", json={"text": "hi"})
    token = sandbox.received.line[0].events[0].reply_token
    buttons = TemplateMessage(
        alt_text="訂單確認",
        template=ButtonsTemplate(
            text="確認訂單 #1001?",
            actions=[PostbackAction(label="確認", data="order.confirm:1001")],
        ),
    )

    with ApiClient(sandbox.line_config()) as client:
        api = MessagingApi(client)
        sent = api.reply_message(
            ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="您好"), buttons]),
            _request_timeout=TIMEOUT,
        )
        with pytest.raises(ApiException) as reused:
            api.reply_message(
                ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="again")]),
                _request_timeout=TIMEOUT,
            )

    assert len(sent.sent_messages) == 2
    assert reused.value.status == 400
    assert json.loads(reused.value.body)["message"] == "Invalid reply token"
    messages = sandbox.api("GET", f"conversations/line/main/{user_id}/messages?since=1").json()
    assert [m["message"]["type"] for m in messages["messages"]] == ["text", "template"]
    assert messages["next"] == 3


def test_sdk_push_with_retry_key_is_409_on_resend(sandbox):
    user_id = sandbox.user(LINE)
    request_body = PushMessageRequest(to=user_id, messages=[TextMessage(text="已出貨")])
    key = str(uuid.uuid4())

    with ApiClient(sandbox.line_config()) as client:
        api = MessagingApi(client)
        first = api.push_message_with_http_info(
            request_body, x_line_retry_key=key, _request_timeout=TIMEOUT
        )
        with pytest.raises(ApiException) as again:
            api.push_message(request_body, x_line_retry_key=key, _request_timeout=TIMEOUT)

    assert first.status_code == 200
    assert again.value.status == 409
    assert again.value.headers["x-line-accepted-request-id"] == first.headers["X-Line-Request-Id"]
    assert json.loads(again.value.body)["sentMessages"][0]["id"]
    assert sandbox.emulator.delivered(LINE, "main", user_id) == [{"type": "text", "text": "已出貨"}]


def test_sdk_quota_and_profile(sandbox):
    sandbox.emulator.line_channel("main").monthly_limit = 1000
    user_id = sandbox.user(LINE, "林小美")

    with ApiClient(sandbox.line_config()) as client:
        api = MessagingApi(client)
        api.push_message(
            PushMessageRequest(to=user_id, messages=[TextMessage(text="hi")]),
            _request_timeout=TIMEOUT,
        )
        quota = api.get_message_quota(_request_timeout=TIMEOUT)
        usage = api.get_message_quota_consumption(_request_timeout=TIMEOUT)
        profile = api.get_profile(user_id, _request_timeout=TIMEOUT)

    assert (quota.type.value, quota.value) == ("limited", 1000)
    assert usage.total_usage == 1
    assert profile.display_name == "林小美"


def test_sdk_downloads_the_image_a_customer_sent(sandbox):
    user_id = sandbox.user(LINE)
    png = b"\x89PNG\r\n\x1a\n transfer slip"

    sandbox.act(LINE, user_id, "image", files={"image": ("slip.png", png, "image/png")})

    event = sandbox.received.line[0].events[0]
    assert isinstance(event.message, ImageMessageContent)
    with ApiClient(sandbox.line_config()) as client:
        content = MessagingApiBlob(client).get_message_content_with_http_info(
            event.message.id, _request_timeout=TIMEOUT
        )
    assert bytes(content.data) == png
    assert content.headers["Content-Type"] == "image/png"


def test_queued_429_reaches_the_sdk_with_retry_after(sandbox):
    user_id = sandbox.user(LINE)
    rule = {"channel": "line", "endpoint": "push", "status": 429, "retry_after": 1}
    assert sandbox.api("POST", "faults", json=rule).status_code == 201
    request_body = PushMessageRequest(to=user_id, messages=[TextMessage(text="hi")])

    with ApiClient(sandbox.line_config()) as client:
        api = MessagingApi(client)
        with pytest.raises(ApiException) as limited:
            api.push_message(request_body, _request_timeout=TIMEOUT)
        api.push_message(request_body, _request_timeout=TIMEOUT)

    assert limited.value.status == 429
    assert limited.value.headers["Retry-After"] == "1"
    calls = sandbox.api("GET", "calls?channel=line&endpoint=push").json()["calls"]
    assert [call["status"] for call in calls] == [429, 200]
    assert sandbox.api("GET", "faults").json() == {"faults": []}


def test_messenger_send_and_profile_over_http(sandbox):
    psid = sandbox.user(MESSENGER, "Amy Chen")
    sandbox.act(MESSENGER, psid, "say", json={"text": "有貨嗎"})
    graph = sandbox.base + "/graph/v25.0"
    body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "有的"}}

    sent = requests.post(
        f"{graph}/me/messages", params={"access_token": PAGE_TOKEN}, json=body, timeout=10
    )
    profile = requests.get(
        f"{graph}/{psid}",
        params={"fields": "first_name,last_name", "access_token": PAGE_TOKEN},
        timeout=10,
    )

    assert sent.status_code == 200
    assert sent.json()["recipient_id"] == psid
    assert profile.json() == {"first_name": "Amy", "last_name": "Chen", "id": psid}
    [payload] = sandbox.received.messenger
    assert payload["entry"][0]["messaging"][0]["message"]["text"] == "有貨嗎"


def test_pymessenger_bot_pointed_at_the_sandbox(sandbox):
    psid = sandbox.user(MESSENGER)
    sandbox.act(MESSENGER, psid, "say", json={"text": "hi"})
    bot = Bot(PAGE_TOKEN, app_secret=APP_SECRET)
    bot.graph_url = sandbox.base + "/graph/v25.0"

    sent = bot.send_raw(
        {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "您好"}}
    )
    untyped = bot.send_text_message(psid, "沒有 messaging_type")

    assert sent["recipient_id"] == psid
    assert untyped["error"]["code"] == 100
    assert sandbox.emulator.delivered(MESSENGER, PAGE_ID, psid) == [{"text": "您好"}]


def test_messenger_window_and_bad_token_over_http(sandbox):
    psid = sandbox.user(MESSENGER)
    sandbox.act(MESSENGER, psid, "say", json={"text": "hi"})
    url = sandbox.base + "/graph/v25.0/me/messages"
    body = {"recipient": {"id": psid}, "messaging_type": "UPDATE", "message": {"text": "出貨"}}

    advanced = sandbox.api("POST", "clock/advance", json={"seconds": 24 * 3600 + 60})
    late = requests.post(url, params={"access_token": PAGE_TOKEN}, json=body, timeout=10)
    forged = requests.post(url, params={"access_token": "nope"}, json=body, timeout=10)

    assert advanced.status_code == 200
    assert (late.status_code, late.json()["error"]["error_subcode"]) == (400, 2018278)
    assert forged.json()["error"]["code"] == 190


def test_messenger_image_url_is_served_by_the_sandbox(sandbox):
    psid = sandbox.user(MESSENGER)
    jpeg = b"\xff\xd8\xff fake jpeg"

    sandbox.act(MESSENGER, psid, "image", files={"image": ("slip.jpg", jpeg, "image/jpeg")})

    event = sandbox.received.messenger[0]["entry"][0]["messaging"][0]
    url = event["message"]["attachments"][0]["payload"]["url"]
    assert url.startswith(sandbox.base + "/media/")
    fetched = requests.get(url, timeout=10)
    assert (fetched.content, fetched.headers["Content-Type"]) == (jpeg, "image/jpeg")


def test_taps_quick_replies_follow_and_referral(sandbox):
    line_user, psid = sandbox.user(LINE), sandbox.user(MESSENGER)

    sandbox.act(LINE, line_user, "tap", json={"data": "order.confirm:1", "label": "確認"})
    sandbox.act(LINE, line_user, "unfollow")
    sandbox.act(LINE, line_user, "follow")
    sandbox.act(
        MESSENGER, psid, "tap", json={"data": "pay:cod", "label": "貨到付款", "quick_reply": True}
    )
    sandbox.act(MESSENGER, psid, "referral", json={"ref": "bind-42"})

    line_types = [payload.events[0].type for payload in sandbox.received.line]
    fb_events = [p["entry"][0]["messaging"][0] for p in sandbox.received.messenger]
    assert line_types == ["postback", "unfollow", "follow"]
    assert sandbox.received.line[0].events[0].postback.data == "order.confirm:1"
    assert fb_events[0]["message"]["quick_reply"] == {"payload": "pay:cod"}
    assert fb_events[1]["referral"]["ref"] == "bind-42"


def test_bad_signature_is_refused_by_a_verifying_service(sandbox):
    actions = CustomerActions(sandbox.emulator)
    amy = actions.customer(LINE, "main", "王小美")
    ming = actions.customer(MESSENGER, PAGE_ID, "陳大明")

    assert actions.send_with_bad_signature(amy.says("hi")) == 400
    assert actions.send_with_bad_signature(ming.says("hi")) == 403
    assert actions.redeliver(amy.says("again")).status == 200
    assert sandbox.received.line[-1].events[0].delivery_context.is_redelivery is True


def test_control_api_lists_accounts_without_secrets(sandbox):
    accounts = sandbox.api("GET", "accounts").json()["accounts"]

    assert {(a["channel"], a["account"]) for a in accounts} == {
        (LINE, "main"),
        (MESSENGER, PAGE_ID),
    }
    assert LINE_SECRET not in json.dumps(accounts)
    assert PAGE_TOKEN not in json.dumps(accounts)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        (
            "POST",
            "users",
            {"json": {"channel": "whatsapp", "account": "x", "display_name": "a"}},
            404,
        ),
        (
            "POST",
            "users",
            {"json": {"channel": "line", "account": "nope", "display_name": "a"}},
            404,
        ),
        (
            "POST",
            "users",
            {"json": {"channel": "line", "account": "main", "display_name": ""}},
            400,
        ),
        ("POST", "conversations/line/main/U0/say", {"json": {"text": "hi"}}, 404),
        ("GET", "conversations/line/main/U0/messages?since=-1", {}, 400),
        ("POST", "faults", {"json": {"status": 200}}, 400),
        ("POST", "faults", {"json": {"bogus": 1}}, 400),
        ("POST", "clock/advance", {"json": {"seconds": -5}}, 400),
    ],
)
def test_control_api_refuses_bad_requests(sandbox, method, path, kwargs, status):
    response = sandbox.api(method, path, **kwargs)
    assert response.status_code == status
    assert response.json()["error"]


def test_say_needs_text(sandbox):
    user_id = sandbox.user(LINE)
    response = sandbox.api("POST", f"conversations/line/main/{user_id}/say", json={})
    assert response.status_code == 400


def test_reset_forgets_conversations_but_keeps_accounts(sandbox):
    user_id = sandbox.user(LINE)
    sandbox.act(LINE, user_id, "say", json={"text": "hi"})

    assert sandbox.api("POST", "reset").status_code == 204

    assert sandbox.api("GET", "conversations").json() == {"conversations": []}
    assert len(sandbox.api("GET", "accounts").json()["accounts"]) == 2


def test_chat_page_and_its_assets_are_served(sandbox):
    page = requests.get(sandbox.base + "/", timeout=10)
    root = requests.get(sandbox.server.url + "/", timeout=10)

    assert page.status_code == 200
    assert "傳送" in page.text and "進入對話" in page.text
    assert root.url == sandbox.base + "/"
    for asset in ("chat.js", "render.js", "chat.css"):
        assert requests.get(f"{sandbox.base}/static/{asset}", timeout=10).status_code == 200
    assert sandbox.emulator.public_base_url == sandbox.base


def test_unknown_line_path_is_404_with_request_id(sandbox):
    response = requests.get(sandbox.base + "/line/v2/bot/nothing", timeout=10)
    assert response.status_code == 404
    assert response.headers["X-Line-Request-Id"]


def test_stopped_server_refuses_connections():
    server = serve_in_thread(create_emulator_app(PlatformEmulator()))
    url = server.url
    assert requests.get(url + "/sandbox/api/accounts", timeout=10).status_code == 200

    server.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/sandbox/api/accounts", timeout=10)

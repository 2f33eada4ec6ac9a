"""The binding-code API (Flask test client) over a real Redis and SQLite; the chat
side of a binding is driven through the production router."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import segno

from bot.sandbox.clock import SandboxClock
from commerce.services.binding_service import sign_member_token
from tests.bot.test_chat_router import Chat, FakeNotifier

T0 = datetime(2026, 5, 4, 2, 0, tzinfo=timezone.utc)
SECRET = "member-secret-for-tests"


@pytest.fixture
def member_env(tmp_path, database_url):
    from web.environment import load_environment

    return load_environment({"DATABASE_URL": database_url, "CHATCART_SECRET_KEY": "test-key",
                             "CHATCART_MEMBER_TOKEN_SECRET": SECRET}, var_dir=tmp_path / "var")


@pytest.fixture
def api(app_config, member_env, redis_url):
    from commerce.demo import seed_demo
    from web.app import create_app
    from web.bootstrap import bootstrap
    from web.flow_wiring import default_router

    clock = SandboxClock(T0)
    container = bootstrap(app_config, member_env, redis_url=redis_url, clock=clock.now)
    seed_demo(container.catalog, container.customers)
    notifier = FakeNotifier()
    container._chat = SimpleNamespace(notifier=notifier)
    chat = Chat(container, default_router(container), clock, notifier)
    yield SimpleNamespace(client=create_app(container).test_client(), container=container,
                          clock=clock, notifier=notifier, chat=chat)
    container.close()


def issue(api, visitor="v-1", channel="line", **extra):
    return api.client.post("/api/binding-codes",
                           json={"visitor_id": visitor, "channel": channel, **extra})


def token(member: str, minutes: int = 30) -> str:
    return sign_member_token(SECRET, member, int((T0 + timedelta(minutes=minutes)).timestamp()))


def test_a_line_code_with_its_deep_link_and_qr_code(api):
    answer = issue(api)
    assert answer.status_code == 201
    body = answer.get_json()
    code = body["code"]
    assert len(code) == 6 and code.isdigit()
    assert body["expires_at"] == (T0 + timedelta(minutes=10)).isoformat()
    assert body["deep_link"] == f"https://line.me/R/oaMessage/%40chatcart/?{code}"
    # absolute, because shops call the API from their own origin
    assert body["qr_svg_url"].startswith("http://localhost/api/binding-codes/")
    qr = api.client.get(body["qr_svg_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    expected = io.BytesIO()
    segno.make(body["deep_link"], error="m").save(expected, kind="svg", scale=4, border=2,
                                                   xmldecl=False)
    assert qr.get_data() == expected.getvalue()  # the QR code of exactly the deep link
    assert api.client.get(body["qr_svg_url"].replace("?k=", "?k=0")).status_code == 404
    assert api.client.get(f"/api/binding-codes/{body['id']}").get_json() == {
        "status": "pending", "expires_at": body["expires_at"]}


def test_the_code_is_never_stored_in_clear(api):
    body = issue(api).get_json()
    redis = api.container.redis
    for key in redis.scan_iter("chatcart:*"):
        assert body["code"] not in key.decode().split(":")
        kind = redis.type(key).decode()
        values = redis.hvals(key) if kind == "hash" else [redis.get(key)] if kind == "string" \
            else []
        assert all(body["code"] not in (v.decode() if v else "") for v in values)


def test_a_messenger_code_links_to_the_page_with_a_bind_ref(api):
    body = issue(api, channel="messenger").get_json()
    assert body["deep_link"] == f"https://m.me/100000000000001?ref=bind-{body['code']}"


@pytest.mark.parametrize("payload", [
    {"channel": "line"}, {"visitor_id": "v 1", "channel": "line"},
    {"visitor_id": "v1", "channel": "whatsapp"}, {"visitor_id": "x" * 81, "channel": "line"},
    {"visitor_id": "v1", "channel": "line", "member_token": 5}, ["v1", "line"],
])
def test_bad_requests_are_refused_with_a_reason(api, payload):
    answer = api.client.post("/api/binding-codes", json=payload)
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid"


def test_one_visitor_gets_ten_codes_an_hour(api):
    assert all(issue(api).status_code == 201 for _ in range(10))
    refused = issue(api)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert refused.get_json()["message"] == "取得代碼太頻繁，請於 60 分鐘後再試。"
    assert issue(api, visitor="v-2").status_code == 201
    api.clock.advance(3601)
    assert issue(api).status_code == 201


def test_status_of_unknown_expired_and_used_codes(api):
    assert api.client.get("/api/binding-codes/nope").status_code == 404
    body = issue(api).get_json()
    api.clock.advance(601)
    assert api.client.get(f"/api/binding-codes/{body['id']}").get_json()["status"] == "expired"
    fresh = issue(api).get_json()
    api.chat.says("amy", fresh["code"])
    assert api.client.get(fresh["qr_svg_url"]).status_code == 410


@pytest.mark.parametrize("member_token, reason, status", [
    ("not-a-token", "malformed", 400),
    (token("#1").replace(".", "-", 1) + "0", "malformed", 400),
    (sign_member_token("guess", "#1", int((T0 + timedelta(minutes=5)).timestamp())), "forged",
     400),
    (token("#1", minutes=-1), "expired", 400),
])
def test_a_forged_or_expired_member_token_is_refused(api, member_token, reason, status):
    answer = issue(api, member_token=member_token)
    assert answer.status_code == status and answer.get_json()["reason"] == reason


def test_a_member_token_for_nobody_is_refused(api):
    answer = issue(api, member_token=token("nobody@example.com"))
    assert answer.status_code == 422 and answer.get_json()["error"] == "unknown_member"


def test_a_member_binding_is_active_only_after_the_page_confirms_the_chat_name(api):
    lin = api.container.customers.find_by_contact("0922333444")
    body = issue(api, member_token=token("0922333444")).get_json()
    replies = api.chat.says("amy", body["code"])
    assert len(replies[0].messages) == 2  # bound, and "confirm on the page"
    url = f"/api/binding-codes/{body['id']}"
    assert api.client.get(url).get_json() == {
        "status": "bound", "display_name": "Amy", "needs_confirmation": True,
        "member": {"confirmed": False}}
    conv = api.container.conversations.ensure(api.chat.key("amy"))
    assert conv.customer_id is None  # nothing of the member yet

    assert api.client.post(f"{url}/confirm", json={"visitor_id": "v-2"}).status_code == 403
    confirmed = api.client.post(f"{url}/confirm", json={"visitor_id": "v-1"})
    assert confirmed.status_code == 200 and confirmed.get_json()["member"] == {"confirmed": True}
    assert api.container.conversations.get(conv.id).customer_id == lin
    assert api.client.post(f"{url}/confirm", json={"visitor_id": "v-1"}).status_code == 200
    told = [m.text for cid, messages, _ in api.notifier.sent for m in messages if cid == conv.id]
    assert told == ["已在網頁確認，這個聊天已連結你的會員資料。"]

    assert api.client.post(f"{url}/undo", json={"visitor_id": "v-2"}).status_code == 403
    assert api.client.delete(f"{url}?visitor_id=v-1").status_code == 204
    assert api.client.get(url).get_json() == {"status": "expired", "reason": "undone"}
    assert api.container.conversations.get(conv.id).customer_id is None
    assert api.notifier.sent[-1][1][0].text.startswith("網頁上已取消這次綁定")
    assert api.client.delete(f"{url}?visitor_id=v-1").status_code == 409


def test_a_plain_binding_has_nothing_to_confirm_and_a_pending_code_nothing_to_undo(api):
    body = issue(api).get_json()
    url = f"/api/binding-codes/{body['id']}"
    assert api.client.post(f"{url}/undo", json={"visitor_id": "v-1"}).status_code == 409
    api.chat.says("amy", body["code"])
    refused = api.client.post(f"{url}/confirm", json={"visitor_id": "v-1"})
    assert refused.status_code == 409 and refused.get_json()["error"] == "no_member"
    assert api.client.post(f"{url}/undo", json={"visitor_id": "v-1"}).status_code == 204
    assert api.container.extras["flow_runtime"].services.bindings.for_visitor("v-1") == []


def test_member_tokens_are_refused_when_no_secret_is_configured(app_config, environment,
                                                                redis_url):
    from web.app import create_app
    from web.bootstrap import bootstrap

    container = bootstrap(app_config, environment, redis_url=redis_url)
    try:
        answer = create_app(container).test_client().post("/api/binding-codes", json={
            "visitor_id": "v-1", "channel": "line", "member_token": token("#1")})
        assert answer.status_code == 400 and answer.get_json()["reason"] == "disabled"
    finally:
        container.close()


@pytest.mark.parametrize("issue_id", ["a b", "x" * 65, "a:b"])
def test_odd_ids_are_simply_not_found(api, issue_id):
    for method, path in (("get", ""), ("get", "/qr.svg?k=123456"), ("post", "/confirm"),
                         ("delete", "?visitor_id=v-1")):
        answer = getattr(api.client, method)(f"/api/binding-codes/{issue_id}{path}",
                                             json={"visitor_id": "v-1"})
        assert answer.status_code == 404, (method, path)

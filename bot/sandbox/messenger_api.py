"""The Graph API's Send API and user profile, with Messenger's rules.

Served under a base that includes the version (``<sandbox>/graph/v25.0``), as the
adapter's ``graph_url`` expects; any version segment is accepted so that a version
bump in config needs no emulator change. The rule that matters most is the
messaging window: RESPONSE/UPDATE only within 24 hours of the person's last
message, tap or link, HUMAN_AGENT up to 7 days, and the retired tags refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.sandbox import ids
from bot.sandbox.faults import Fault
from bot.sandbox.messenger_validation import validate_send
from bot.sandbox.state import MESSENGER, MessengerPage
from bot.sandbox.wire import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from bot.sandbox.emulator import PlatformEmulator

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
RETIRED_TAGS = ("CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE")
PROFILE_FIELDS = ("first_name", "last_name", "name", "id", "profile_pic")
DEFAULT_PROFILE_FIELDS = ("first_name", "last_name", "profile_pic", "id")

_PATH = re.compile(r"/(?:v\d+(?:\.\d+)?/)?(?P<rest>[^?]+)")
_FAULT_ERRORS = {
    429: (613, "Calls to this api have exceeded the rate limit."),
    500: (2, "An unexpected error has occurred. Please retry your request later."),
    503: (2, "Service temporarily unavailable"),
}


def graph_error(
    status: int, code: int, message: str, subcode: int | None = None, kind: str = "OAuthException"
) -> ApiResponse:
    """Graph's error envelope, with a fresh ``fbtrace_id`` like the real one."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = ids.token(8)
    return ApiResponse(status, {"error": error})


class GraphApi:
    """Request handler for everything under the sandbox's Graph base URL."""

    def __init__(self, emulator: PlatformEmulator) -> None:
        self._emu = emulator

    def handle(self, request: ApiRequest) -> ApiResponse:
        match = _PATH.fullmatch(request.path)
        rest = match.group("rest").strip("/") if match else ""
        if request.method == "POST" and rest == "me/messages":
            endpoint = "send"
        elif request.method == "GET" and rest and "/" not in rest:
            endpoint = "profile"
        else:
            return graph_error(400, 2500, f"Unknown path components: /{rest}")
        token = request.query.get("access_token")
        page = self._emu.page_by_token(token)
        response = self._fault(endpoint, page)
        delivered = False
        if response is None and page is None:
            response = graph_error(
                400, 190, "Invalid OAuth access token - Cannot parse access token"
            )
        if response is None and not _proof_ok(request, page):
            response = graph_error(
                400,
                100,
                "Invalid appsecret_proof provided in the API argument",
                kind="GraphMethodException",
            )
        if response is None:
            with self._emu.lock:
                if endpoint == "send":
                    response, delivered = self._send(page, request)
                else:
                    response = self._profile(page, rest, request)
        recipient, messages = _describe(endpoint, request, rest)
        self._emu.record_call(
            channel=MESSENGER,
            endpoint=endpoint,
            account=page.page_id if page else None,
            recipient=recipient,
            messages=messages,
            status=response.status,
            delivered=delivered,
        )
        return response

    def _fault(self, endpoint: str, page: MessengerPage | None) -> ApiResponse | None:
        fault = self._emu.faults.take(MESSENGER, endpoint, page.page_id if page else None)
        if fault is None:
            return None
        if fault.delay:
            self._emu.sleep(fault.delay)
        return _fault_response(fault) if fault.status is not None else None

    def _send(self, page: MessengerPage, request: ApiRequest) -> tuple[ApiResponse, bool]:
        body = _json_object(request)
        if body is None:
            return graph_error(400, 100, "(#100) The request body must be a JSON object"), False
        problem = validate_send(body)
        if problem:
            return graph_error(400, 100, problem), False
        psid = str(body["recipient"]["id"])
        user = self._emu.user(MESSENGER, page.page_id, psid)
        if user is None:
            return graph_error(400, 100, "(#100) No matching user found", 2018001), False
        if "sender_action" in body:
            return ApiResponse(200, {"recipient_id": psid}), False
        window = STANDARD_WINDOW
        if body["messaging_type"] == "MESSAGE_TAG":
            tag = body.get("tag")
            if tag in RETIRED_TAGS:
                message = f"(#100) Tag {tag} is no longer supported; use HUMAN_AGENT"
                return graph_error(400, 100, message), False
            if tag != "HUMAN_AGENT":
                return graph_error(400, 100, "(#100) Param tag must be HUMAN_AGENT"), False
            window = HUMAN_AGENT_WINDOW
        now = self._emu.clock.now()
        if user.last_inbound is None or now - user.last_inbound > window:
            message = (
                "(#10) This message is sent outside of allowed window. Learn more about the "
                "new policy here: https://developers.facebook.com/docs/messenger-platform/"
                "policy-overview"
            )
            return graph_error(400, 10, message, 2018278), False
        self._emu.append((MESSENGER, page.page_id, psid), "out", "send", body["message"])
        return ApiResponse(200, {"recipient_id": psid, "message_id": ids.messenger_mid()}), True

    def _profile(self, page: MessengerPage, psid: str, request: ApiRequest) -> ApiResponse:
        user = self._emu.user(MESSENGER, page.page_id, psid)
        if user is None:
            message = (
                f"Unsupported get request. Object with ID '{psid}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation."
            )
            return graph_error(400, 100, message, 33, kind="GraphMethodException")
        wanted = request.query.get("fields")
        fields = [f.strip() for f in wanted.split(",") if f.strip()] if wanted else []
        for field in fields:
            if field not in PROFILE_FIELDS:
                return graph_error(400, 100, f"(#100) Tried accessing nonexisting field ({field})")
        values: dict[str, str | None] = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "name": user.display_name,
            "id": user.user_id,
            "profile_pic": user.picture_url,
        }
        chosen = {*(fields or DEFAULT_PROFILE_FIELDS), "id"}
        return ApiResponse(200, {k: v for k, v in values.items() if k in chosen and v is not None})


def _proof_ok(request: ApiRequest, page: MessengerPage | None) -> bool:
    """An ``appsecret_proof``, when given, must be HMAC-SHA256(app secret, token)."""
    proof = request.query.get("appsecret_proof")
    if proof is None or page is None:
        return True
    expected = hmac.new(
        page.app_secret.encode(), page.page_token.encode(), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(proof, expected)


def _fault_response(fault: Fault) -> ApiResponse:
    status = fault.status or 500
    if fault.body is not None:
        response = ApiResponse(status, fault.body)
    else:
        code, message = _FAULT_ERRORS.get(status, (1, "An unknown error occurred"))
        response = graph_error(status, code, message)
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


def _describe(endpoint: str, request: ApiRequest, rest: str) -> tuple[str | None, list[Any]]:
    """Best-effort recipient and messages of a call, for the call log."""
    if endpoint == "profile":
        return rest, []
    body = _json_object(request) or {}
    recipient = body.get("recipient")
    psid = str(recipient.get("id")) if isinstance(recipient, dict) else None
    if "message" in body:
        return psid, [body["message"]]
    if "sender_action" in body:
        return psid, [{"sender_action": body["sender_action"]}]
    return psid, []


def _json_object(request: ApiRequest) -> dict[str, Any] | None:
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None

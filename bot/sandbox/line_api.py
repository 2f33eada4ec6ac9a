"""The LINE Messaging API, as far as chatcart uses it, with LINE's rules.

Paths are exactly the real ones (``/v2/bot/...``) so that line-bot-sdk, given
``Configuration(host=<sandbox>/line)``, talks to this without knowing. The rules that
bite in production are enforced: reply tokens are single use and expire, retry
keys answer 409 on a resend, pushes use up a monthly quota, blocked users get
nothing, and message objects must respect LINE's limits.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from bot.sandbox import ids
from bot.sandbox.faults import Fault
from bot.sandbox.line_validation import validate_messages
from bot.sandbox.state import LINE, LineChannel
from bot.sandbox.wire import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from bot.sandbox.emulator import PlatformEmulator

RETRY_KEY_TTL = timedelta(hours=24)
QUOTE_TARGET_TYPES = ("text", "textV2", "image", "sticker")

_ROUTES = [
    ("POST", re.compile(r"/v2/bot/message/reply"), "reply", "_reply"),
    ("POST", re.compile(r"/v2/bot/message/push"), "push", "_push"),
    ("GET", re.compile(r"/v2/bot/message/quota"), "quota", "_quota"),
    ("GET", re.compile(r"/v2/bot/message/quota/consumption"), "quota", "_consumption"),
    ("GET", re.compile(r"/v2/bot/profile/(?P<arg>[^/]+)"), "profile", "_profile"),
    ("GET", re.compile(r"/v2/bot/message/(?P<arg>[^/]+)/content"), "content", "_content"),
]


@dataclass
class _ReplyToken:
    account: str
    user_id: str
    issued_at: datetime
    used: bool = False


@dataclass(frozen=True)
class _Accepted:
    at: datetime
    request_id: str
    sent_messages: list[dict[str, str]]


def _error(status: int, message: str, **extra: Any) -> ApiResponse:
    return ApiResponse(status, {"message": message, **extra})


def _bad_request(details: list[dict[str, str]]) -> ApiResponse:
    return _error(400, f"The request body has {len(details)} error(s)", details=details)


class LineApi:
    """Request handler for everything under the sandbox's LINE base URL."""

    def __init__(self, emulator: PlatformEmulator, reply_token_ttl: float = 60.0) -> None:
        self._emu = emulator
        self.reply_token_ttl = timedelta(seconds=reply_token_ttl)
        self._tokens: dict[str, _ReplyToken] = {}
        self._accepted: dict[tuple[str, str], _Accepted] = {}
        self._usage: dict[tuple[str, str], int] = {}

    def reset(self) -> None:
        with self._emu.lock:
            self._tokens.clear()
            self._accepted.clear()
            self._usage.clear()

    def issue_reply_token(self, account: str, user_id: str) -> str:
        """A fresh token for a webhook event; remembered so a reply can spend it."""
        reply_token = ids.token()
        with self._emu.lock:
            self._tokens[reply_token] = _ReplyToken(account, user_id, self._emu.clock.now())
        return reply_token

    def usage(self, account: str) -> int:
        """Pushes counted this month (LINE's ``totalUsage``)."""
        with self._emu.lock:
            return self._usage.get((account, self._month()), 0)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one API call and log it; faults queued for it apply first."""
        request_id = ids.request_id()
        route = _route(request)
        if route is None:
            response = _error(404, "Not found")
            response.headers["X-Line-Request-Id"] = request_id
            return response
        endpoint, handler_name, arg = route
        auth = request.header("Authorization") or ""
        channel = self._emu.line_channel_by_token(auth.removeprefix("Bearer ").strip())
        account = channel.account if channel else None
        response, delivered = None, False
        fault = self._emu.faults.take(LINE, endpoint, account)
        if fault is not None:
            if fault.delay:
                self._emu.sleep(fault.delay)
            if fault.status is not None:
                response = _fault_response(fault)
        if response is None and channel is None:
            response = _error(
                401,
                "Authentication failed. Confirm that the access token in the "
                "authorization header is valid.",
            )
        if response is None:
            with self._emu.lock:
                response, delivered = getattr(self, handler_name)(channel, request, arg, request_id)
        recipient, messages = self._describe(endpoint, request, arg)
        self._emu.record_call(
            channel=LINE,
            endpoint=endpoint,
            account=account,
            recipient=recipient,
            messages=messages,
            status=response.status,
            request_id=request_id,
            retry_key=request.header("X-Line-Retry-Key"),
            delivered=delivered,
        )
        response.headers["X-Line-Request-Id"] = request_id
        return response

    # -- endpoints (called with the lock held) ----------------------------

    def _reply(
        self, channel: LineChannel, request: ApiRequest, _arg: str | None, _rid: str
    ) -> tuple[ApiResponse, bool]:
        body = _json_object(request)
        if body is None:
            return _bad_request([{"message": "Invalid JSON", "property": ""}]), False
        details = validate_messages(body.get("messages"))
        if not body.get("replyToken"):
            details.insert(0, {"message": "May not be empty", "property": "replyToken"})
        if details:
            return _bad_request(details), False
        token = self._tokens.get(body["replyToken"])
        now = self._emu.clock.now()
        if (
            token is None
            or token.account != channel.account
            or token.used
            or now - token.issued_at > self.reply_token_ttl
        ):
            return _error(400, "Invalid reply token"), False
        token.used = True
        sent = self._deliver(channel, token.user_id, body["messages"], "reply")
        return ApiResponse(200, {"sentMessages": sent}), True

    def _push(
        self, channel: LineChannel, request: ApiRequest, _arg: str | None, request_id: str
    ) -> tuple[ApiResponse, bool]:
        body = _json_object(request)
        if body is None:
            return _bad_request([{"message": "Invalid JSON", "property": ""}]), False
        details = validate_messages(body.get("messages"))
        if not body.get("to"):
            details.insert(0, {"message": "May not be empty", "property": "to"})
        if details:
            return _bad_request(details), False
        now = self._emu.clock.now()
        retry_key = request.header("X-Line-Retry-Key")
        if retry_key is not None:
            if not _is_uuid(retry_key):
                return _error(400, "The value for the 'X-Line-Retry-Key' header is invalid"), False
            accepted = self._accepted.get((channel.account, retry_key))
            if accepted is not None and now - accepted.at < RETRY_KEY_TTL:
                response = _error(
                    409,
                    "The retry key is already accepted",
                    sentMessages=accepted.sent_messages,
                )
                response.headers["x-line-accepted-request-id"] = accepted.request_id
                return response, False
        user = self._emu.user(LINE, channel.account, body["to"])
        if user is None:
            return _error(400, "Failed to send messages"), False
        month_key = (channel.account, self._month())
        used = self._usage.get(month_key, 0)
        if channel.monthly_limit is not None and used >= channel.monthly_limit:
            return _error(429, "You have reached your monthly limit."), False
        if user.following:
            sent = self._deliver(channel, user.user_id, body["messages"], "push")
            self._usage[month_key] = used + 1
        else:
            sent = _sent_messages(body["messages"])
        if retry_key is not None:
            self._accepted[(channel.account, retry_key)] = _Accepted(now, request_id, sent)
        return ApiResponse(200, {"sentMessages": sent}), user.following

    def _quota(
        self, channel: LineChannel, _request: ApiRequest, _arg: str | None, _rid: str
    ) -> tuple[ApiResponse, bool]:
        if channel.monthly_limit is None:
            return ApiResponse(200, {"type": "none"}), False
        return ApiResponse(200, {"type": "limited", "value": channel.monthly_limit}), False

    def _consumption(
        self, channel: LineChannel, _request: ApiRequest, _arg: str | None, _rid: str
    ) -> tuple[ApiResponse, bool]:
        return ApiResponse(200, {"totalUsage": self.usage(channel.account)}), False

    def _profile(
        self, channel: LineChannel, _request: ApiRequest, user_id: str | None, _rid: str
    ) -> tuple[ApiResponse, bool]:
        user = self._emu.user(LINE, channel.account, user_id or "")
        if user is None or not user.following:
            return _error(404, "Not found"), False
        profile = {"userId": user.user_id, "displayName": user.display_name}
        if user.picture_url:
            profile["pictureUrl"] = user.picture_url
        return ApiResponse(200, profile), False

    def _content(
        self, channel: LineChannel, _request: ApiRequest, message_id: str | None, _rid: str
    ) -> tuple[ApiResponse, bool]:
        media = self._emu.media(message_id or "")
        if media is None or media.channel != LINE or media.account != channel.account:
            return _error(404, "Not found"), False
        return ApiResponse(200, content=media.content, content_type=media.content_type), False

    # -- helpers ----------------------------------------------------------

    def _deliver(
        self, channel: LineChannel, user_id: str, messages: list[dict], via: str
    ) -> list[dict[str, str]]:
        for message in messages:
            self._emu.append((LINE, channel.account, user_id), "out", via, message)
        return _sent_messages(messages)

    def _describe(
        self, endpoint: str, request: ApiRequest, arg: str | None
    ) -> tuple[str | None, list[Any]]:
        """Best-effort recipient and messages of a call, for the call log."""
        if endpoint == "profile":
            return arg, []
        body = _json_object(request) or {}
        messages = body.get("messages")
        messages = messages if isinstance(messages, list) else []
        if endpoint == "push":
            return body.get("to"), messages
        if endpoint == "reply":
            with self._emu.lock:
                token = self._tokens.get(str(body.get("replyToken")))
            return (token.user_id if token else None), messages
        return None, []

    def _month(self) -> str:
        return self._emu.clock.now().strftime("%Y-%m")


def _route(request: ApiRequest) -> tuple[str, str, str | None] | None:
    """(endpoint name, handler, path argument) for a known method and path."""
    for method, pattern, endpoint, handler_name in _ROUTES:
        match = pattern.fullmatch(request.path)
        if match and method == request.method:
            return endpoint, handler_name, match.groupdict().get("arg")
    return None


def _sent_messages(messages: list[dict]) -> list[dict[str, str]]:
    sent = []
    for message in messages:
        item = {"id": ids.numeric_id()}
        if message.get("type") in QUOTE_TARGET_TYPES:
            item["quoteToken"] = ids.token()
        sent.append(item)
    return sent


def _fault_response(fault: Fault) -> ApiResponse:
    status = fault.status or 500
    body = fault.body if fault.body is not None else {"message": HTTPStatus(status).phrase}
    response = ApiResponse(status, body)
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


def _json_object(request: ApiRequest) -> dict[str, Any] | None:
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

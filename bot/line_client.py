"""A thin typed client for the LINE Messaging API, on line-bot-sdk v3.

Why a wrapper at all: the SDK has no default timeout, retries connection errors
inside urllib3 where the sender cannot see them, raises a different exception
type per status, and treats a 409 on a retried push (already accepted, which is
success) as an error. Here every call has a timeout, transport retries are off
(the outbox retries with backoff and a retry key), and every failure is one
``LineApiError`` whose properties answer what the sender needs to decide.

Response bodies are read leniently, as raw bytes (``_preload_content=False`` for
the SDK's calls): a 200 with a body the SDK's models would reject must still count
as sent, or a retry would send the message twice. Both base URLs are configurable
so the sandbox emulator exercises this exact code.

Replies and pushes (one per dialog turn) and content downloads (which must stop at
a size limit) go out on a kept connection per thread (``bot.keepalive_http``) with
the SDK's own headers, its bearer token and user agent; quota and profile calls go
through the SDK's ``ApiClient``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
)

from bot.events import MediaGone, MediaTooLarge
from bot.keepalive_http import Answer, KeepAliveHttp, TransportError

Timeout = float | tuple[float, float]


class LineApiError(Exception):
    """A LINE API call that failed. ``status`` 0 means no HTTP answer (network
    error or timeout)."""

    def __init__(
        self,
        status: int,
        message: str,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"LINE API {status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.request_id = request_id

    @property
    def is_invalid_reply_token(self) -> bool:
        """The reply token was used or expired: fall back to push."""
        return self.status == 400 and "invalid reply token" in self.message.lower()

    @property
    def is_monthly_limit(self) -> bool:
        """The month's push quota is used up: retrying will not help."""
        return self.status == 429 and "monthly limit" in self.message.lower()

    @property
    def is_rate_limited(self) -> bool:
        return self.status == 429 and not self.is_monthly_limit

    @property
    def is_retryable(self) -> bool:
        return self.is_rate_limited or self.status == 0 or self.status >= 500


@dataclass(frozen=True, slots=True)
class SendResult:
    """What LINE said about a reply or push. ``already_accepted`` is a push whose
    retry key LINE had seen (409): the messages went out the first time."""

    request_id: str | None
    sent_message_ids: tuple[str, ...] = ()
    already_accepted: bool = False


class LineClient:
    """One LINE channel's Messaging API (``api_base``) and content API
    (``data_api_base``)."""

    def __init__(
        self,
        access_token: str,
        api_base: str = "https://api.line.me",
        data_api_base: str = "https://api-data.line.me",
        timeout: Timeout = (3, 10),
    ) -> None:
        self._timeout = tuple(timeout) if isinstance(timeout, (list, tuple)) else timeout
        self._api_client = ApiClient(_configuration(access_token, api_base))
        self._api = MessagingApi(self._api_client)
        connect, read = self._timeout if isinstance(self._timeout, tuple) else (timeout, timeout)
        self._sends = KeepAliveHttp(api_base, connect_timeout=connect, read_timeout=read)
        self._send_headers = {**self._api_client.default_headers,
                              "Accept": "application/json", "Content-Type": "application/json"}
        self._downloads = KeepAliveHttp(data_api_base, connect_timeout=connect,
                                        read_timeout=read)
        self._download_headers = dict(self._api_client.default_headers)

    def close(self) -> None:
        self._api_client.close()
        self._sends.close()
        self._downloads.close()

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> SendResult:
        """Free, but the token is single use and short-lived; see
        ``LineApiError.is_invalid_reply_token``."""
        _, headers, body = self._send("/v2/bot/message/reply", {
            "replyToken": reply_token, "messages": _batch(messages),
            "notificationDisabled": False})
        return _sent(headers, body)

    def push(self, to: str, messages: list[dict[str, Any]], retry_key: str) -> SendResult:
        """Counts toward the monthly quota. ``retry_key`` (a UUID) must be the same
        on every attempt of this one push and never reused for another."""
        uuid.UUID(retry_key)
        status, headers, body = self._send(
            "/v2/bot/message/push",
            {"to": to, "messages": _batch(messages), "notificationDisabled": False},
            {"X-Line-Retry-Key": retry_key},
            accept_status=(409,),
        )
        if status == 409:
            accepted = _header(headers, "x-line-accepted-request-id")
            return SendResult(accepted, _sent_ids(body), already_accepted=True)
        return _sent(headers, body)

    def quota(self) -> int | None:
        """This month's push limit, or None when the plan has none."""
        _, _, body = self._call(self._api.get_message_quota_with_http_info)
        data = _json_object(body)
        if data.get("type") == "none":
            return None
        value = data.get("value")
        if not isinstance(value, int):
            raise LineApiError(200, f"unexpected quota response {data!r}")
        return value

    def quota_consumption(self) -> int:
        _, _, body = self._call(self._api.get_message_quota_consumption_with_http_info)
        usage = _json_object(body).get("totalUsage")
        if not isinstance(usage, int):
            raise LineApiError(200, "quota consumption response has no totalUsage")
        return usage

    def profile(self, user_id: str) -> str:
        """The user's display name."""
        _, _, body = self._call(self._api.get_profile_with_http_info, user_id)
        name = _json_object(body).get("displayName")
        if not isinstance(name, str):
            raise LineApiError(200, "profile response has no displayName")
        return name

    def content(self, message_id: str, max_bytes: int) -> tuple[bytes, str]:
        """Bytes and content type of an image a user sent. Fetch it right away:
        LINE deletes content after a while. Raises ``MediaGone`` on 404 (unknown or
        expired) and 410 (the user unsent it), ``MediaTooLarge`` over ``max_bytes``:
        by the declared length before any byte is read, else as soon as the body
        passes the limit (``KeepAliveHttp``; the SDK would read it all first).
        """
        answer = _kept(self._downloads, "GET",
                       f"/v2/bot/message/{quote(message_id, safe='')}/content",
                       headers=self._download_headers, limit=max_bytes)
        if not 200 <= answer.status < 300:
            error = _answer_error(answer)
            if error.status in (404, 410):
                raise MediaGone(error.status, error.message)
            raise error
        if not answer.complete:
            raise MediaTooLarge(max_bytes, answer.declared_length)
        content_type = answer.headers.get("content-type") or "application/octet-stream"
        return answer.body, content_type

    def _send(self, path: str, body: dict[str, Any], headers: Mapping[str, str] | None = None,
              *, accept_status: tuple[int, ...] = ()) -> tuple[int, Mapping[str, str], bytes]:
        """POST a reply or push body as built, on this thread's kept connection.

        Not through the SDK's ``reply_message``: it would first turn the body into
        its pydantic models and back into a dict (about a quarter of the call's CPU,
        docs/performance.md, item 23), and a model that does not know a newer field
        drops it silently. The renderer has already checked each message against
        those same models when it built it (``bot/line_render.py``). Not through
        ``ApiClient.call_api`` either: its generic serialisation and urllib3's pool
        cost more than the request itself (item 34). The body is encoded as the SDK
        encodes it (``json.dumps``, ASCII escapes).
        """
        answer = _kept(self._sends, "POST", path, body=_encode_body(body).encode("ascii"),
                       headers={**self._send_headers, **(headers or {})})
        if 200 <= answer.status < 300 or answer.status in accept_status:
            return answer.status, answer.headers, answer.body
        raise _answer_error(answer)

    def _call(
        self,
        method: Callable[..., Any],
        *args: Any,
        accept_status: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Status, headers and raw body; any failure becomes ``LineApiError``
        except the statuses in ``accept_status``."""
        try:
            response = method(
                *args, _request_timeout=self._timeout, _preload_content=False, **kwargs
            )
        except ApiException as exc:
            status = exc.status or 0
            body = exc.body.encode() if isinstance(exc.body, str) else (exc.body or b"")
            if status in accept_status:
                return status, exc.headers or {}, body
            raise _api_error(status, exc.headers or {}, body, exc.reason) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise LineApiError(0, f"network error: {exc}") from exc
        return response.status_code, response.headers or {}, bytes(response.raw_data or b"")


def _kept(http: KeepAliveHttp, method: str, path: str, **request: Any) -> Answer:
    """A request on the thread's kept connection; no answer is a status-0 error."""
    try:
        return http.request(method, path, **request)
    except TransportError as exc:
        raise LineApiError(0, f"network error: {exc}") from exc


def _answer_error(answer: Answer) -> LineApiError:
    return _api_error(answer.status, answer.headers, answer.body, answer.reason)


#: The SDK's body encoding (``json.dumps`` with its defaults), made once.
_encode_body = json.JSONEncoder().encode


def _batch(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A reply or push carries 1 to 5 messages; anything else is our bug, refused
    before a request is made (the platform would answer 400)."""
    if not 1 <= len(messages) <= 5:
        raise ValueError(f"a LINE reply or push carries 1-5 messages, not {len(messages)}")
    return messages


#: Connections kept open per API host. The SDK's default (5 per CPU) is below a
#: worker's thread count; every call beyond it opened a new connection (a TLS
#: handshake with the real API) and threw it away afterwards.
CONNECTIONS_KEPT = 64


def _configuration(access_token: str, base: str) -> Configuration:
    configuration = Configuration(access_token=access_token, host=base.rstrip("/"))
    configuration.retries = 0
    configuration.connection_pool_maxsize = CONNECTIONS_KEPT
    return configuration


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _sent_ids(body: bytes) -> tuple[str, ...]:
    sent = _json_object(body).get("sentMessages")
    if not isinstance(sent, list):
        return ()
    return tuple(str(m["id"]) for m in sent if isinstance(m, dict) and "id" in m)


def _sent(headers: Mapping[str, str], body: bytes) -> SendResult:
    return SendResult(_header(headers, "x-line-request-id"), _sent_ids(body))


def _api_error(
    status: int, headers: Mapping[str, str], body: bytes, reason: object
) -> LineApiError:
    data = _json_object(body)
    message = str(data.get("message") or reason or "no message")
    details = data.get("details")
    if isinstance(details, list):
        extra = "; ".join(
            f"{d.get('property', '')}: {d.get('message', '')}"
            for d in details
            if isinstance(d, dict)
        )
        if extra:
            message = f"{message} ({extra})"
    return LineApiError(
        status,
        message,
        retry_after=_retry_after(_header(headers, "retry-after")),
        request_id=_header(headers, "x-line-request-id"),
    )


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None

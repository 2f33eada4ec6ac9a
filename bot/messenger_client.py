"""A thin typed client for the Messenger Send API, on pymessenger's ``Bot``.

pymessenger 0.0.7 posts without a timeout, has no ``messaging_type`` (required by
Meta) and returns error bodies as if they were results. This subclass keeps its
helpers (``send_text_message``, ``send_button_message``, ...) working but routes
them all through a ``send_raw`` that adds ``messaging_type``, sets a timeout and
raises one ``MessengerApiError`` with Meta's ``code`` / ``error_subcode``, which is
what the sender needs to decide between retry, wait for the customer, or give up.

``graph_base`` includes the Graph version and is configurable, so the sandbox
emulator exercises this exact code.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests
from pymessenger.bot import Bot

from bot.events import MediaGone, MediaTooLarge

_CHUNK = 64 * 1024


class MessengerApiError(Exception):
    """A Graph API call that failed. ``status`` 0 means no HTTP answer (network
    error or timeout); ``code`` / ``subcode`` are Meta's error numbers when given."""

    def __init__(
        self,
        status: int,
        code: int | None,
        subcode: int | None,
        message: str,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Messenger API {status} (code {code}/{subcode}): {message}")
        self.status = status
        self.code = code
        self.subcode = subcode
        self.message = message
        self.retry_after = retry_after

    @property
    def is_outside_window(self) -> bool:
        """More than 24 h since the customer last wrote: wait for them (or a human
        agent tag); retrying will not help."""
        return self.code == 10 or self.subcode == 2018278

    @property
    def is_rate_limited(self) -> bool:
        return self.code in (4, 613) or self.status == 429

    @property
    def is_user_unavailable(self) -> bool:
        """The person blocked the page or deleted their account."""
        return self.code == 551

    @property
    def is_retryable(self) -> bool:
        return (
            self.is_rate_limited
            or self.code in (2, 1200)
            or self.status == 0
            or self.status >= 500
        )


class MessengerClient(Bot):
    """One Facebook page's Send API. ``app_secret`` adds ``appsecret_proof``."""

    def __init__(
        self,
        page_token: str,
        app_secret: str | None = None,
        graph_base: str = "https://graph.facebook.com/v25.0",
        timeout: float = 10,
    ) -> None:
        super().__init__(page_token, app_secret=app_secret)
        self.graph_url = graph_base.rstrip("/")
        self._timeout = timeout

    def send_raw(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``{graph_url}/me/messages``; every pymessenger helper ends here."""
        body = dict(payload)
        if "message" in body:
            body.setdefault("messaging_type", "RESPONSE")
        return self._graph("POST", f"{self.graph_url}/me/messages", json=body)

    def send(
        self,
        psid: str,
        message: dict[str, Any],
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
    ) -> str | None:
        """Send one rendered message; returns Meta's message id (None if a success
        answer lacked it: the message still went out, so this is not an error).

        A ``tag`` (e.g. ``HUMAN_AGENT``) requires ``messaging_type="MESSAGE_TAG"``.
        """
        if (tag is None) == (messaging_type == "MESSAGE_TAG"):
            raise ValueError("a tag goes with messaging_type MESSAGE_TAG and only with it")
        payload: dict[str, Any] = {
            "recipient": {"id": psid},
            "messaging_type": messaging_type,
            "message": message,
        }
        if tag is not None:
            payload["tag"] = tag
        message_id = self.send_raw(payload).get("message_id")
        return message_id if isinstance(message_id, str) else None

    def profile(self, psid: str) -> str:
        """The person's display name."""
        data = self._graph(
            "GET",
            f"{self.graph_url}/{quote(psid, safe='')}",
            params={"fields": "first_name,last_name,name"},
        )
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        if not name:
            raise MessengerApiError(200, None, None, "profile answer has no name")
        return name

    def fetch_attachment(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """Bytes and content type of an attachment URL from a webhook, streamed
        and capped at ``max_bytes``. The URLs are signed CDN links that expire:
        fetch right away. No page token is sent to the CDN.

        Raises ``MediaGone`` on 403/404/410 (expired or removed),
        ``MediaTooLarge`` past ``max_bytes``, ``MessengerApiError`` otherwise.
        """
        try:
            with requests.get(url, stream=True, timeout=self._timeout) as response:
                if response.status_code in (403, 404, 410):
                    raise MediaGone(response.status_code)
                if response.status_code >= 400:
                    raise MessengerApiError(
                        response.status_code, None, None, "attachment download failed"
                    )
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise MediaTooLarge(max_bytes, int(declared))
                content = bytearray()
                for chunk in response.iter_content(_CHUNK):
                    content += chunk
                    if len(content) > max_bytes:
                        raise MediaTooLarge(max_bytes)
                content_type = response.headers.get("Content-Type", "application/octet-stream")
        except requests.RequestException as exc:
            raise MessengerApiError(0, None, None, f"network error: {exc}") from exc
        return bytes(content), content_type

    def _graph(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        params = {**kwargs.pop("params", {}), **self.auth_args}
        try:
            response = requests.request(
                method, url, params=params, timeout=self._timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise MessengerApiError(0, None, None, f"network error: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        if response.status_code >= 400 or error is not None:
            raise _api_error(response, error)
        return data if isinstance(data, dict) else {}


def _api_error(response: requests.Response, error: Any) -> MessengerApiError:
    error = error if isinstance(error, dict) else {}
    message = error.get("message") or response.text[:200] or response.reason or "no message"
    return MessengerApiError(
        response.status_code,
        _int(error.get("code")),
        _int(error.get("error_subcode")),
        str(message),
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None

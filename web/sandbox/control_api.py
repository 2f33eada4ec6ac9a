"""JSON control API of the sandbox: what the chat page and e2e tests drive.

Reading: accounts, conversations, a conversation's messages since an index, and
the log of API calls the service made. Acting: a person says, taps, sends an
image, follows or opens a link (each a real signed webhook to the service); queue
or clear faults; move the clock; reset. The service's webhook answer is returned
as data (``webhook_status``), since a refusal there is something to see, not an
error of this API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from bot.sandbox import LINE, MESSENGER, CustomerActions, FaultRule, PlatformEmulator
from bot.sandbox.webhooks import WebhookDelivery

MAX_NAME = 50
MAX_IMAGE_BYTES = 10 * 1024 * 1024


class _BadInput(Exception):
    """A control request the sandbox cannot act on; carries the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def register_control_api(
    bp: Blueprint, emulator: PlatformEmulator, actions: CustomerActions
) -> None:
    @bp.errorhandler(_BadInput)
    def _bad_input(exc: _BadInput) -> tuple[Response, int]:
        return jsonify(error=str(exc)), exc.status

    @bp.get("/api/accounts")
    def accounts() -> Response:
        found = [c.public() for c in emulator.line_channels()]
        found += [p.public() for p in emulator.messenger_pages()]
        return jsonify(accounts=found)

    @bp.get("/api/conversations")
    def conversations() -> Response:
        return jsonify(conversations=emulator.conversations())

    @bp.post("/api/users")
    def create_user() -> tuple[Response, int]:
        body = _json_body()
        name = str(body.get("display_name", "")).strip()
        if not name or len(name) > MAX_NAME:
            raise _BadInput(400, f"display_name must be 1 to {MAX_NAME} characters")
        channel, account = _channel(body.get("channel")), str(body.get("account", ""))
        try:
            user = emulator.ensure_user(channel, account, name, body.get("user_id") or None)
        except KeyError as exc:
            raise _BadInput(404, str(exc.args[0])) from None
        return jsonify(user.public()), 201

    @bp.get("/api/conversations/<channel>/<account>/<user_id>/messages")
    def messages(channel: str, account: str, user_id: str) -> Response:
        since = request.args.get("since", "0")
        if not since.isdigit():
            raise _BadInput(400, "since must be a non-negative integer")
        entries = emulator.transcript(_channel(channel), account, user_id, int(since))
        return jsonify(
            messages=[entry.to_dict() for entry in entries], next=int(since) + len(entries)
        )

    @bp.post("/api/conversations/<channel>/<account>/<user_id>/<action>")
    def act(channel: str, account: str, user_id: str, action: str) -> Response:
        channel = _channel(channel)
        try:
            delivery = _perform(actions, channel, account, user_id, action)
        except LookupError as exc:
            raise _BadInput(404, str(exc.args[0])) from None
        except RuntimeError as exc:
            raise _BadInput(409, str(exc)) from None
        return jsonify(webhook_status=delivery.status, event=delivery.event)

    @bp.get("/api/calls")
    def calls() -> Response:
        since = int(request.args.get("since", "0") or 0)
        found = emulator.calls(request.args.get("channel"), request.args.get("endpoint"))
        return jsonify(calls=[call.to_dict() for call in found if call.seq >= since])

    @bp.get("/api/faults")
    def faults() -> Response:
        return jsonify(faults=[rule.to_dict() for rule in emulator.faults.pending()])

    @bp.post("/api/faults")
    def add_fault() -> tuple[Response, int]:
        try:
            rule = FaultRule(**_json_body())
        except (TypeError, ValueError) as exc:
            raise _BadInput(400, str(exc)) from None
        emulator.faults.add(rule)
        return jsonify(rule.to_dict()), 201

    @bp.delete("/api/faults")
    def clear_faults() -> tuple[str, int]:
        emulator.faults.clear()
        return "", 204

    @bp.post("/api/clock/advance")
    def advance() -> Response:
        seconds = _json_body().get("seconds")
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise _BadInput(400, "seconds must be a non-negative number")
        emulator.advance(seconds)
        return jsonify(now=emulator.clock.now().isoformat())

    @bp.post("/api/reset")
    def reset() -> tuple[str, int]:
        emulator.reset()
        return "", 204


def _perform(
    actions: CustomerActions, channel: str, account: str, user_id: str, action: str
) -> WebhookDelivery:
    if action == "image":
        upload = request.files.get("image")
        if upload is None:
            raise _BadInput(400, "send the picture as multipart field 'image'")
        content = upload.read(MAX_IMAGE_BYTES + 1)
        if not content or len(content) > MAX_IMAGE_BYTES:
            raise _BadInput(400, "the picture must be 1 byte to 10 MB")
        content_type = upload.mimetype or "application/octet-stream"
        return actions.send_image(channel, account, user_id, content, content_type)
    body = _json_body()
    if action == "say":
        return actions.say(channel, account, user_id, _text(body, "text"))
    if action == "tap":
        return actions.tap(
            channel,
            account,
            user_id,
            _text(body, "data"),
            label=str(body.get("label") or ""),
            display_text=body.get("display_text") or None,
            quick_reply=bool(body.get("quick_reply")),
        )
    if action in ("follow", "unfollow") and channel == LINE:
        return getattr(actions, action)(account, user_id)
    if action == "referral" and channel == MESSENGER:
        return actions.open_link(account, user_id, _text(body, "ref"))
    raise _BadInput(404, f"no action {action!r} on {channel}")


def _channel(value: Any) -> str:
    if value not in (LINE, MESSENGER):
        raise _BadInput(404, "channel must be 'line' or 'messenger'")
    return str(value)


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise _BadInput(400, "the body must be a JSON object")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _BadInput(400, f"{key} is required")
    return value

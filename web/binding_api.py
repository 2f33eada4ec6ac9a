"""The binding-code API the storefront widget calls (docs/api.md, "Binding codes").

``POST /api/binding-codes`` hands a visitor a six-digit code with a deep link and
a QR code; the shopper sends the code in the chat, where the bot binds the chat
to the visitor. The widget polls ``GET /api/binding-codes/<id>`` and shows the
chat's display name once bound. A member binding (the shop vouched for its
member with a signed token) is activated only when the shopper confirms that
name on the page (``POST .../confirm``); ``DELETE`` (or ``POST .../undo``) undoes
a binding ("不是你?"). Confirm and undo need the visitor id the code was issued
to, so knowing a code's id alone changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import math
import re
from datetime import timedelta
from urllib.parse import quote

import segno
from flask import Blueprint, Response, current_app, jsonify, request, url_for

from bot.messages import Text
from commerce.errors import NotFound
from commerce.identity import Channel
from commerce.services.binding_service import MemberTokenError, verify_member_token
from flows.binding_codes import DEFAULT_RETENTION_SECONDS
from flows.definitions.stores import IssueDetail
from web.flow_wiring import flow_runtime, issue_limiter

log = logging.getLogger("chatcart.binding_api")
bp = Blueprint("binding_api", __name__)

MEMBER_SECRET_ENV = "CHATCART_MEMBER_TOKEN_SECRET"
_VISITOR = re.compile(r"[A-Za-z0-9_-]{1,80}")
_SEALED = re.compile(r"[0-9]{6}")
_ISSUE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

Answer = tuple[Response, int]


def _container():  # noqa: ANN202 - web.bootstrap.Container
    return current_app.extensions["chatcart"]


def _runtime():  # noqa: ANN202 - bot.flow_runner.FlowRuntime
    return flow_runtime(_container())


def _error(status: int, error: str, message: str, **extra: object) -> Answer:
    return jsonify(error=error, message=message, **extra), status


class _Refused(Exception):
    """Ends a request with an error answer from any helper."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(error)
        self.answer = (status, error, message)


@bp.errorhandler(_Refused)
def _refused(exc: _Refused) -> Answer:
    return _error(*exc.answer)


def _t(message: str, **values: object) -> str:
    return _runtime().services.texts(message, **values)


def _detail(issue_id: str) -> IssueDetail | None:
    """What was recorded when the code was issued; None for an unknown or odd id."""
    return _runtime().issues.get(issue_id) if _ISSUE_ID.fullmatch(issue_id) else None


def _pad(issue_id: str) -> list[int]:
    """Six digits only this server can compute, unique to the issue: a one-time pad."""
    key = hmac.new(_container().env.secret_key.encode(), b"chatcart:binding-qr",
                   hashlib.sha256).digest()
    return [b % 10 for b in hmac.new(key, issue_id.encode(), hashlib.sha256).digest()[:6]]


def _seal(issue_id: str, code: str) -> str:
    """The code hidden in the QR URL, so it never sits in clear in a URL or a log."""
    return "".join(str((int(c) + p) % 10) for c, p in zip(code, _pad(issue_id), strict=True))


def _unseal(issue_id: str, sealed: str) -> str:
    return "".join(str((int(c) - p) % 10) for c, p in zip(sealed, _pad(issue_id), strict=True))


def deep_link(channel: str, code: str) -> str:
    """LINE: the OA chat with the code typed in; Messenger: the page with a ``bind-`` ref."""
    platforms = _container().platforms
    if channel == Channel.LINE.value:
        basic_id = platforms.line_channel("main").basic_id
        return f"https://line.me/R/oaMessage/{quote(basic_id, safe='')}/?{quote(code, safe='')}"
    page_id = next(iter(platforms.messenger))
    return f"https://m.me/{quote(page_id, safe='')}?ref=bind-{code}"


@bp.post("/api/binding-codes")
def issue() -> Answer:
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    visitor_id, channel = body.get("visitor_id"), body.get("channel")
    token = body.get("member_token")
    if (not isinstance(visitor_id, str) or not _VISITOR.fullmatch(visitor_id)
            or channel not in (Channel.LINE.value, Channel.MESSENGER.value)
            or not (token is None or isinstance(token, str))):
        return _error(400, "invalid", _t("請提供 visitor_id 與 channel（line 或 messenger）。"))
    container, runtime = _container(), _runtime()
    member_ref = None
    if token:
        try:
            member_ref = verify_member_token(token, container.env.get(MEMBER_SECRET_ENV),
                                             container.clock())
        except MemberTokenError as exc:
            return _error(400, "member_token_refused", _t("會員憑證無效或已過期。"),
                          reason=exc.reason)
        if runtime.services.bindings.resolve_member(member_ref) is None:
            return _error(422, "unknown_member", _t("找不到這位會員。"))
    decision = issue_limiter(container).hit(visitor_id)
    if not decision.allowed:
        wait = max(1, math.ceil(decision.retry_after.total_seconds()))
        answer = _error(429, "rate_limited",
                        _t("取得代碼太頻繁，請於 {minutes} 分鐘後再試。",
                           minutes=max(1, math.ceil(wait / 60))), retry_after=wait)
        answer[0].headers["Retry-After"] = str(wait)
        return answer
    issued = runtime.codes.issue(visitor_id, Channel(channel))
    ttl = timedelta(minutes=container.config.flows.binding.code_ttl_minutes,
                    seconds=DEFAULT_RETENTION_SECONDS)
    runtime.issues.put(issued.id, IssueDetail(visitor_id, channel, member_ref), ttl)
    return jsonify(
        id=issued.id, code=issued.code, expires_at=issued.expires_at.isoformat(),
        deep_link=deep_link(channel, issued.code),
        # Absolute: shops call this API from their own origin.
        qr_svg_url=url_for("binding_api.qr", issue_id=issued.id,
                           k=_seal(issued.id, issued.code), _external=True),
    ), 201


@bp.get("/api/binding-codes/<issue_id>/qr.svg")
def qr(issue_id: str) -> Response | Answer:
    runtime = _runtime()
    sealed = request.args.get("k", "")
    detail = _detail(issue_id)
    if detail is None or not _SEALED.fullmatch(sealed):
        return _error(404, "not_found", _t("找不到這個綁定代碼。"))
    if runtime.codes.status(issue_id).status != "pending":
        return _error(410, "gone", _t("這個綁定代碼已使用或已過期。"))
    out = io.BytesIO()
    segno.make(deep_link(detail.channel, _unseal(issue_id, sealed)), error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False)
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/binding-codes/<issue_id>")
def status(issue_id: str) -> Answer:
    runtime = _runtime()
    current = runtime.codes.status(issue_id)
    if current.status == "unknown":
        return _error(404, "not_found", _t("找不到這個綁定代碼。"))
    if current.status != "bound":
        return jsonify(status=current.status, expires_at=current.expires_at.isoformat()), 200
    binding = _binding_of(current.bound or {})
    detail = runtime.issues.get(issue_id)
    if binding is None or not binding.active or (detail is not None and detail.undone):
        return jsonify(status="expired", reason="undone"), 200
    return jsonify(_bound_body(current.bound or {}, binding)), 200


def _binding_of(info: dict):  # noqa: ANN202 - BindingView | None
    try:
        return _runtime().services.bindings.get(int(info["binding_id"]))
    except (KeyError, TypeError, ValueError, NotFound):
        return None


def _bound_body(info: dict, binding) -> dict:  # noqa: ANN001 - BindingView
    body = {"status": "bound", "display_name": info.get("display_name", ""),
            "needs_confirmation": False}
    if binding.member_ref:
        confirmed = binding.member_confirmed_at is not None
        body.update(needs_confirmation=not confirmed, member={"confirmed": confirmed})
    return body


def _owned_binding(issue_id: str, visitor_id: object):  # noqa: ANN202
    """``(bound info, binding)`` of an issue this visitor owns; refuses otherwise."""
    runtime = _runtime()
    detail = _detail(issue_id)
    if detail is None:
        raise _Refused(404, "not_found", _t("找不到這個綁定代碼。"))
    if not isinstance(visitor_id, str) or not hmac.compare_digest(
            detail.visitor_id.encode(), visitor_id.encode()):
        raise _Refused(403, "not_your_code", _t("這個綁定代碼不是由這個瀏覽器取得的。"))
    current = runtime.codes.status(issue_id)
    binding = _binding_of(current.bound or {}) if current.status == "bound" else None
    if binding is None or not binding.active or detail.undone:
        raise _Refused(409, "not_bound", _t("這個代碼目前沒有綁定任何聊天。"))
    return current.bound or {}, binding


def _tell_chat(conversation_id: int, message: str) -> None:
    """Best effort: the binding change is committed; a chat outage must not undo it."""
    try:
        _container().chat.notifier.send(conversation_id, [Text(message)], automated_update=True)
    except Exception:
        log.exception("could not tell conversation %s about its binding", conversation_id)


@bp.post("/api/binding-codes/<issue_id>/confirm")
def confirm(issue_id: str) -> Answer:
    body = request.get_json(silent=True)
    visitor_id = body.get("visitor_id") if isinstance(body, dict) else None
    info, binding = _owned_binding(issue_id, visitor_id)
    if not binding.member_ref:
        return _error(409, "no_member", _t("這個綁定沒有會員資料需要確認。"))
    already = binding.member_confirmed_at is not None
    try:
        binding = _runtime().services.bindings.confirm_member(binding.id)
    except NotFound:
        return _error(409, "unknown_member", _t("找不到這位會員。"))
    if not already:
        _tell_chat(binding.conversation_id, _t("已在網頁確認，這個聊天已連結你的會員資料。"))
    return jsonify(_bound_body(info, binding)), 200


@bp.delete("/api/binding-codes/<issue_id>")
@bp.post("/api/binding-codes/<issue_id>/undo")
def undo(issue_id: str) -> Response:
    body = request.get_json(silent=True)
    visitor_id = request.args.get("visitor_id") or (
        body.get("visitor_id") if isinstance(body, dict) else None)
    _, binding = _owned_binding(issue_id, visitor_id)
    runtime = _runtime()
    runtime.services.bindings.revoke(binding.id)
    runtime.issues.mark_undone(issue_id)
    _tell_chat(binding.conversation_id, _t("網頁上已取消這次綁定，之後不會再傳送該購物車的通知。"))
    return Response(status=204)

"""Routes of the customer order page.

``GET /o/<token>`` reads the order; ``POST /o/<token>/confirm`` confirms it;
``GET|POST /o/<token>/pay`` shows the bank details and takes a transfer proof.
Every route opens the order only through the secret link, so no route can show
or change another customer's order; unknown, revoked and expired links all get
the same 404 page with nothing of any order on it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from commerce.errors import DomainError
from commerce.media_store import MAX_IMAGE_BYTES, ImageRefused
from commerce.services.order_views import OrderView
from web.order_pages import csrf, guard
from web.order_pages.chat_echo import tell_customer
from web.order_pages.i18n import choose_locale, remember_locale, translate
from web.order_pages.presenter import OrderPage, present
from web.order_pages.proof_form import FormProblem, read_fields
from web.order_pages.rendering import install_rendering

log = logging.getLogger("chatcart.order_page")

bp = Blueprint("order_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets/order")
install_rendering(bp)

NOTICES = {
    "confirmed": "訂單已確認",
    "already_confirmed": "這張訂單已經確認過了",
    "proof": "已收到轉帳證明，等待商家核對",
}
REFUSALS = {
    "type": "只接受 JPEG、PNG 或 WebP 圖片",
    "size": "圖片太大：上限 10 MB",
    "pixels": "圖片像素過多：上限 4000 萬像素",
}


class _Refusal(Exception):
    """Ends a request with a ready response (404, 429, 403) from any helper."""

    def __init__(self, response: tuple[str, int]) -> None:
        super().__init__(response[1])
        self.response = response


@bp.errorhandler(_Refusal)
def _refused(exc: _Refusal) -> tuple[str, int]:
    return exc.response


@bp.before_request
def _pick_language() -> None:
    g.locale = choose_locale(_container().config.store.default_locale)


@bp.after_request
def _headers(response: Response) -> Response:
    if request.endpoint != "order_pages.static":
        # The token is in the URL: keep it out of caches, Referer headers and search.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
            "script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return remember_locale(response)


@bp.get("/o/<token>")
def order_page(token: str) -> str:
    order = _open(token)
    notice = NOTICES.get(request.args.get("notice", ""))
    return render_template("order_pages/order.html", page=_present(order), token=token,
                           csrf_token=csrf.issue(current_app.secret_key, token),
                           notice=notice and _t(notice))


@bp.post("/o/<token>/confirm")
def confirm(token: str) -> Response | tuple[str, int]:
    order = _open(token)
    _check_csrf(token)
    try:
        result = _container().orders.confirm(order.number, actor="customer")
    except DomainError as exc:
        return _error_page(exc.message, 409, token)
    if result.changed:
        tell_customer(_container(), result.order, f"已確認訂單 {order.number}")
    notice = "confirmed" if result.changed else "already_confirmed"
    return redirect(url_for(".order_page", token=token, notice=notice), code=303)


@bp.route("/o/<token>/pay", methods=["GET", "POST"])
def pay(token: str) -> Response | str | tuple[str, int]:
    order = _open(token)
    page = _present(order)
    if request.method == "GET":
        return _pay_page(token, page)
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        return _pay_page(token, page, "size", 413)
    _check_csrf(token)
    if not page.can_pay:
        why = "這張訂單目前不需要上傳轉帳證明"
        if page.can_confirm:
            why = "請先確認訂單，再上傳轉帳證明"
        return _pay_page(token, page, _t(why), 409)
    upload = files.get("proof")
    if upload is None or not upload.filename:
        return _pay_page(token, page, _t("請選擇轉帳證明圖片"), 400)
    container = _container()
    try:
        fields = read_fields(form, container.config.store.timezone, container.clock())
    except FormProblem as problem:
        return _pay_page(token, page, _t(problem.message), 400)
    try:
        media_id = container.media.save_image(upload.stream.read(MAX_IMAGE_BYTES + 1),
                                              source="order_page")
    except ImageRefused as refused:
        return _pay_page(token, page, refused.reason, 413 if refused.reason == "size" else 400)
    try:
        updated = container.orders.submit_proof(
            order.number, media_id=media_id, source="order_page",
            account_last5=fields.account_last5, transferred_at=fields.transferred_at)
    except DomainError as exc:
        return _pay_page(token, page, exc.message, 409)
    tell_customer(container, updated, "已收到轉帳證明，等待商家核對",
                  admins=f"訂單 {order.number} 已上傳轉帳證明，請核對入帳")
    return redirect(url_for(".order_page", token=token, notice="proof"), code=303)


def _container():  # noqa: ANN202 - web.bootstrap.Container
    return current_app.extensions["chatcart"]


def _t(message: str, **values: object) -> str:
    return translate(g.locale, message, **values)


def _present(order: OrderView) -> OrderPage:
    return present(order, _container().config, g.locale, _t)


def _open(token: str) -> OrderView:
    if guard.is_locked_out():
        raise _Refusal(_message_page("嘗試次數過多，請稍後再試", 429))
    order_id = _container().order_links.resolve(token)
    if order_id is None:
        guard.register_miss()
        raise _Refusal(_message_page("找不到這個訂單頁面", 404))
    return _container().orders.get_by_id(order_id)


def _check_csrf(token: str) -> None:
    if not csrf.is_valid(current_app.secret_key, token, request.form.get("csrf_token")):
        raise _Refusal(_error_page("這個表單已失效，請回到訂單頁重新操作", 403, token))


def _pay_page(token: str, page: OrderPage, error: str | None = None,
              status: int = 200) -> tuple[str, int]:
    reason = error if error in REFUSALS else None
    text = _t(REFUSALS[reason]) if reason else error
    return render_template("order_pages/pay.html", page=page, token=token,
                           csrf_token=csrf.issue(current_app.secret_key, token),
                           error=text, reason=reason), status


def _message_page(message: str, status: int) -> tuple[str, int]:
    return render_template("order_pages/message.html", message=_t(message),
                           status=status), status


def _error_page(message: str, status: int, token: str) -> tuple[str, int]:
    return render_template("order_pages/message.html", message=_t(message), status=status,
                           back=url_for(".order_page", token=token)), status

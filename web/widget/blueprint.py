"""Serves the storefront widget and lets the shop's pages call our binding API.

The script is a static file so browsers and CDNs in front of us can cache it; what
varies per store (texts, thresholds) comes from ``/widget/settings``, in the
shopper's language. Cross-origin calls are allowed only from the origins in
``widget.allowed_origins``: the binding API hands out codes that link a chat to a
browser, so an unknown site must not be able to drive it from a visitor's browser.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory

from web.order_pages.i18n import choose_locale, translate

bp = Blueprint("widget", __name__, static_folder="static", static_url_path="/widget/assets")

CORS_PATHS = ("/api/binding-codes", "/widget/")
CHANNELS = ("line", "messenger")
MESSENGER_BUTTON = "傳送到 Messenger"
TEXTS = {
    "close": "關閉",
    "code_label": "綁定代碼",
    "scan_line": "用手機掃描 QR code，或在 LINE 聊天室傳送這個代碼：",
    "scan_messenger": "用手機掃描 QR code，或在 Messenger 對話傳送這個代碼：",
    "open_line": "開啟 LINE 傳送代碼",
    "open_messenger": "開啟 Messenger 傳送代碼",
    "waiting": "等待你傳送代碼…",
    "bound": "已綁定 {name}",
    "not_you": "不是你?",
    "unbound": "已取消綁定",
    "confirm_question": "是你嗎？",
    "confirm_hint": "確認後會連結你的會員資料；在此之前只會傳送購物車訊息。",
    "confirm_yes": "是我",
    "confirm_no": "不是我",
    "expired": "代碼已過期",
    "retry": "重新取得代碼",
    "failed": "暫時無法取得代碼，請稍後再試",
}


@bp.get("/widget/binding.js")
def script() -> Response:
    response = send_from_directory(bp.static_folder, "binding.js", mimetype="text/javascript",
                                   max_age=300)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/widget/settings")
def settings() -> tuple[Response, int] | Response:
    channel = request.args.get("channel", "line")
    if channel not in CHANNELS:
        return jsonify(error="bad_channel", message="channel must be line or messenger"), 400
    config = current_app.extensions["chatcart"].config
    popup = getattr(config.widget, channel)
    locale = choose_locale(config.store.default_locale)
    button = popup.button_text if channel == "line" else translate(locale, MESSENGER_BUTTON)
    response = jsonify(
        channel=channel, enabled=popup.enabled, show_after_adds=popup.show_after_adds,
        max_per_day=popup.max_per_day, title=popup.title, description=popup.description,
        button_text=button,
        texts={key: translate(locale, text) for key, text in TEXTS.items()},
    )
    response.cache_control.max_age = 60
    response.vary.add("Accept-Language")
    return response


@bp.after_app_request
def _cors(response: Response) -> Response:
    if not request.path.startswith(CORS_PATHS):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    allowed = current_app.extensions["chatcart"].config.widget.allowed_origins
    if origin and origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    return response

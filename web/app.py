"""Flask application factory: thin HTTP edge over the container's services."""

from __future__ import annotations

import time

from flask import Flask, Request, Response, g, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from web import binding_api, health, quote_api, store_picker, webhooks
from web.bootstrap import Container
from web.demo_shop.blueprint import bp as demo_shop_bp
from web.logging_setup import log_access, request_id_for, request_id_var
from web.order_pages.blueprint import bp as order_pages_bp
from web.webhook_front import WebhookFront
from web.widget.blueprint import bp as widget_bp

#: Largest request body accepted anywhere (proof uploads); webhooks use a 1 MB cap.
MAX_BODY_BYTES = 11 * 1024 * 1024
#: Probes are polled often and say nothing worth a log line.
_UNLOGGED_PATHS = frozenset({"/healthz", "/readyz"})


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without their cost on requests that have none.

    Flask builds an itsdangerous serializer for every request to open the session
    cookie, and reads seven cookie settings to save it, even when the request sent
    no cookie and nothing was put in the session: every webhook. Here both are
    skipped in exactly those cases (without a Cookie header the cookies are not even
    parsed); anything else goes to Flask's own code.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not (request.environ.get("HTTP_COOKIE")
                                   and request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


def create_app(container: Container) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=container.env.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    app.session_interface = _CookieSessions()
    app.wsgi_app = WebhookFront(app.wsgi_app, container)  # type: ignore[method-assign]
    if container.env.trusted_proxies:
        # Behind a reverse proxy: take the client address and scheme from the
        # proxy's headers, so rate limits and absolute links see the real ones.
        n = container.env.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.extensions["chatcart"] = container
    _install_request_ids(app)
    _install_error_handlers(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(order_pages_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(binding_api.bp)
    app.register_blueprint(demo_shop_bp)
    app.register_blueprint(quote_api.bp)
    app.register_blueprint(store_picker.bp)
    return app


def _install_request_ids(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
        rid = request_id_for(incoming)
        here = g._get_current_object()  # one proxy lookup instead of one per attribute
        here.request_id = rid
        here.request_id_token = request_id_var.set(rid)
        here.started = time.perf_counter()

    @app.after_request
    def _finish(response):  # noqa: ANN001, ANN202
        here = g._get_current_object()
        response.headers["X-Request-Id"] = getattr(here, "request_id", "")
        path = request.path
        if path not in _UNLOGGED_PATHS:
            log_access(request.method, path, response.status_code, getattr(here, "started", 0))
        return response

    @app.teardown_request
    def _reset(_exc) -> None:  # noqa: ANN001
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # noqa: ANN202
        if request.accept_mimetypes.accept_html and not request.path.startswith(
            ("/api/", "/webhooks/")
        ):
            return exc
        return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), \
            exc.code

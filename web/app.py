"""Flask application factory: thin HTTP edge over the container's services."""

from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from web import binding_api, health, quote_api, store_picker, webhooks
from web.bootstrap import Container
from web.demo_shop.blueprint import bp as demo_shop_bp
from web.logging_setup import request_id_var
from web.order_pages.blueprint import bp as order_pages_bp
from web.widget.blueprint import bp as widget_bp

log = logging.getLogger("chatcart.http")

#: Largest request body accepted anywhere (proof uploads); webhooks use a 1 MB cap.
MAX_BODY_BYTES = 11 * 1024 * 1024


def create_app(container: Container) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=container.env.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
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
        incoming = request.headers.get("X-Request-Id", "")
        rid = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else secrets.token_hex(8)
        g.request_id = rid
        g.request_id_token = request_id_var.set(rid)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):  # noqa: ANN001, ANN202
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if request.path not in ("/healthz", "/readyz"):
            log.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={"ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 1)},
            )
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

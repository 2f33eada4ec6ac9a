"""Assembles the sandbox blueprint and the standalone emulator app.

Mounted at ``/sandbox`` on the main app (only when a platform runs in sandbox
mode), it serves everything the emulator offers:

- ``/sandbox/line/v2/bot/...``: LINE Messaging API (``LINE_API_BASE`` and
  ``LINE_DATA_API_BASE`` = ``http://host:port/sandbox/line``);
- ``/sandbox/graph/v25.0/...``: Graph Send API and profiles (``GRAPH_API_BASE``);
- ``/sandbox/media/<id>``: pictures customers sent;
- ``/sandbox/api/...``: the JSON control API;
- ``/sandbox/``: the chat page.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for
from werkzeug.wrappers import Response

from bot.sandbox import CustomerActions, PlatformEmulator
from web.sandbox.control_api import register_control_api
from web.sandbox.platform_routes import register_platform_routes

URL_PREFIX = "/sandbox"


def create_sandbox_blueprint(
    emulator: PlatformEmulator, actions: CustomerActions | None = None
) -> Blueprint:
    """The sandbox's routes over one emulator (``url_prefix`` defaults to /sandbox)."""
    bp = Blueprint(
        "sandbox",
        __name__,
        url_prefix=URL_PREFIX,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    actions = actions or CustomerActions(emulator)

    @bp.before_request
    def _learn_public_base() -> None:
        # Media links in Messenger webhooks must point back at this server; when
        # nobody configured the address, the first request through here tells it.
        if emulator.public_base_url is None:
            emulator.public_base_url = url_for("sandbox.page", _external=True).rstrip("/")

    @bp.get("/")
    def page() -> str:
        return render_template("sandbox/chat.html")

    register_platform_routes(bp, emulator)
    register_control_api(bp, emulator, actions)
    return bp


def create_emulator_app(
    emulator: PlatformEmulator, actions: CustomerActions | None = None
) -> Flask:
    """A Flask app with only the sandbox: for tests and for running the emulator alone."""
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_blueprint(create_sandbox_blueprint(emulator, actions))

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("sandbox.page"))

    return app

"""Liveness and readiness: /readyz names each dependency that is down."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    container = current_app.extensions["chatcart"]
    down: dict[str, str] = {}
    try:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        down["database"] = type(exc).__name__
    try:
        container.redis.ping()
    except Exception as exc:  # noqa: BLE001
        down["redis"] = type(exc).__name__
    if down:
        return jsonify(status="unavailable", down=down), 503
    return jsonify(status="ready")

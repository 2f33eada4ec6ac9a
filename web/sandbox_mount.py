"""Puts the platform emulator inside the service (``chatcart run`` without
credentials): the sandbox routes under /sandbox and the emulator told our
credentials and webhook URLs."""

from __future__ import annotations

from flask import Flask

from bot.sandbox.emulator import PlatformEmulator
from web.platform_setup import connect_emulator
from web.sandbox.blueprint import create_sandbox_blueprint


def mount_sandbox(app: Flask, container, service_base: str) -> PlatformEmulator:  # noqa: ANN001
    emulator = PlatformEmulator(public_base_url=f"{service_base}/sandbox")
    app.register_blueprint(create_sandbox_blueprint(emulator))
    connect_emulator(emulator, container, service_base)
    container.extras["emulator"] = emulator
    return emulator

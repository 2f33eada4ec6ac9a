"""HTTP face of the platform sandbox: API routes, control API and the chat page."""

from web.sandbox.blueprint import create_emulator_app, create_sandbox_blueprint
from web.sandbox.server import ServerHandle, serve_in_thread

__all__ = ["ServerHandle", "create_emulator_app", "create_sandbox_blueprint", "serve_in_thread"]

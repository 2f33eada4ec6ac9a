"""Serve a WSGI app on loopback in a background thread, for tests and local runs.

End-to-end tests need real HTTP in both directions (the service calls the
emulator's API; the emulator posts webhooks to the service), so the server must be
threaded: a webhook handler may itself call back into the same server.
"""

from __future__ import annotations

import threading
from types import TracebackType

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

#: How often the serving loop checks for ``stop()``; short so tests tear down fast.
POLL_INTERVAL = 0.05


class ServerHandle:
    """A running server: ``url`` to reach it, ``stop()`` (or ``with``) to end it."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def url(self) -> str:
        """``http://host:port`` with no trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop accepting requests, close the socket and wait for the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Start ``app`` on ``host:port`` (0 picks a free port) in a daemon thread."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": POLL_INTERVAL},
        name=f"serve-{server.server_port}",
        daemon=True,
    )
    thread.start()
    return ServerHandle(server, thread)

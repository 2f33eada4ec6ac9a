"""A tiny loopback HTTP server for the platform client tests.

It records every request exactly as it arrived (method, path, query, headers,
raw body) and answers with canned responses, so a test can check both what a
client sends and how it reacts to the platform's answers, over real HTTP. The
full platform emulator lives in ``bot/sandbox``; this one knows nothing of LINE
or Messenger.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# A hanging response waits at most this long for the server to stop, so a test
# that forgets to stop it cannot keep a thread alive forever.
_HANG_LIMIT_SECONDS = 30


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Canned:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer: lets a client's read timeout fire
    omit_length: bool = False  # no Content-Length; the body ends when the socket closes


class FakePlatformServer:
    """Use as a context manager; ``base_url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], list[Canned]] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakePlatformServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def reply(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json_body: Any = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        hang: bool = False,
        omit_length: bool = False,
    ) -> None:
        """Queue an answer for ``method path``. Queued answers are used in order;
        the last one keeps answering. Unknown routes get a 404."""
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        canned = Canned(status, body, all_headers, hang, omit_length)
        with self._lock:
            self._routes.setdefault((method.upper(), path), []).append(canned)

    def _answer(self, method: str, path: str) -> Canned:
        with self._lock:
            queue = self._routes.get((method, path))
            if not queue:
                return Canned(404, b'{"message":"no canned response"}',
                              {"Content-Type": "application/json"})
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def wait_released(self) -> None:
        self._release.wait(_HANG_LIMIT_SECONDS)

    def only_request(self) -> Recorded:
        """The single request received; fails the test if there were more or none."""
        with self._lock:
            assert len(self.requests) == 1, f"expected one request, got {self.requests}"
            return self.requests[0]


def _handler_for(server: FakePlatformServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            server._record(
                Recorded(
                    method=self.command,
                    path=url.path,
                    query=parse_qs(url.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            canned = server._answer(self.command, url.path)
            if canned.hang:
                server.wait_released()
                return
            try:
                self.send_response(canned.status)
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                if not canned.omit_length:
                    self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler

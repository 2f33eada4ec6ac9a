"""KeepAliveHttp against a raw loopback server that counts its connections: a kept
connection is reused, replaced when the server has closed it, dropped when it cannot
carry another request, and every failure is a TransportError, never a retry."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

import bot.keepalive_http as keepalive
from bot.keepalive_http import KeepAliveHttp, TransportError

#: Upper bound for any wait in these tests, so a broken case fails instead of hanging.
WAIT = 5.0


@dataclass
class Received:
    connection: int
    head: str
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split("\r\n", 1)[0]

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name:
                return value.strip()
        return None


#: What the server does for one request: the bytes to send back, and whether to
#: close the connection afterwards. ``None`` bytes: send nothing (a hang).
Script = Callable[[Received], tuple[bytes | None, bool]]


def ok(body: bytes = b'{"ok":true}', extra: str = "") -> Script:
    def answer(_: Received) -> tuple[bytes, bool]:
        return (f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
                + body, False)
    return answer


@dataclass
class RawServer:
    """HTTP/1.1 on a real socket, one thread per connection, keep-alive unless a
    script says to close. Records every request with the number of its connection."""

    script: Script = field(default_factory=ok)
    received: list[Received] = field(default_factory=list)
    accepted: int = 0
    ended: int = 0  # connections the client closed (end of file seen)
    hung_up: int = 0  # connections this server closed
    tls: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> RawServer:
        self._accepting.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._accepting.join(WAIT)
        for thread in self._threads:
            thread.join(WAIT)
        self._listener.close()

    def wait_for(self, condition: Callable[[], bool]) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, WAIT), "server never got there"

    def _accept(self) -> None:
        number = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            number += 1
            with self._changed:
                self.accepted += 1
                self._changed.notify_all()
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        if self.tls is not None:
            conn.settimeout(WAIT)
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:  # the client refused our certificate
                conn.close()
                return
        conn.settimeout(0.05)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                if b"\r\n\r\n" not in buffer:
                    chunk = self._recv(conn)
                    if chunk is None:
                        continue
                    if not chunk:
                        with self._changed:
                            self.ended += 1
                            self._changed.notify_all()
                        return
                    buffer += chunk
                    continue
                head, _, rest = buffer.partition(b"\r\n\r\n")
                request = Received(number, head.decode("latin-1"), b"")
                length = int(request.header("content-length") or 0)
                while len(rest) < length and not self._stop.is_set():
                    chunk = self._recv(conn)
                    if chunk == b"":
                        return
                    rest += chunk or b""
                request.body, buffer = rest[:length], rest[length:]
                with self._changed:
                    self.received.append(request)
                    self._changed.notify_all()
                answer, close = self.script(request)
                if answer is None:
                    self._stop.wait(WAIT)  # hang until the test ends
                    return
                conn.sendall(answer)
                if close:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                    with self._changed:
                        self.hung_up += 1
                        self._changed.notify_all()
                    return

    @staticmethod
    def _recv(conn: socket.socket) -> bytes | None:
        try:
            return conn.recv(65536)
        except (TimeoutError, ssl.SSLWantReadError):
            return None
        except OSError:
            return b""


@pytest.fixture
def server() -> Iterator[RawServer]:
    with RawServer() as running:
        yield running


@pytest.fixture
def http(server: RawServer) -> Iterator[KeepAliveHttp]:
    client = KeepAliveHttp(server.url + "/api/", connect_timeout=2, read_timeout=2)
    yield client
    client.close()


def test_posts_on_one_thread_share_one_connection(server: RawServer, http: KeepAliveHttp):
    answers = [http.post("/v2/bot/message/reply", b'{"n":%d}' % n,
                         {"Authorization": "Bearer t", "Content-Type": "application/json"})
               for n in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert answers[0].body == b'{"ok":true}'
    assert answers[0].headers["content-length"] == "11"
    assert server.accepted == 1
    assert [r.connection for r in server.received] == [1, 1, 1]
    assert [r.body for r in server.received] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    first = server.received[0]
    assert first.request_line == "POST /api/v2/bot/message/reply HTTP/1.1"  # prefix kept
    assert first.header("authorization") == "Bearer t"
    assert first.header("content-length") == "7"


def test_an_idle_connection_the_server_closed_is_replaced_before_use(server: RawServer):
    server.script = lambda request: (ok()(request)[0], True)  # answers, then closes
    client = KeepAliveHttp(server.url, connect_timeout=2, read_timeout=2)
    client.stale_check_after = 0  # every kept connection counts as idle
    try:
        assert client.post("/a", b"1", {}).status == 200
        server.wait_for(lambda: server.hung_up == 1)
        # The server closed without saying so in its headers: without the check
        # before reuse, this request would go out on a dead socket and fail.
        assert client.post("/a", b"2", {}).status == 200
        assert server.accepted == 2
        assert [r.body for r in server.received] == [b"1", b"2"]
    finally:
        client.close()


def test_a_connection_answered_on_just_now_is_reused_unchecked(
        server: RawServer, http: KeepAliveHttp, monkeypatch: pytest.MonkeyPatch):
    checks: list[object] = []
    check = keepalive._unusable
    monkeypatch.setattr(keepalive, "_unusable", lambda sock: checks.append(sock) or check(sock))
    for _ in range(3):
        http.post("/a", b"x", {})
    assert checks == [] and server.accepted == 1
    http.stale_check_after = 0
    http.post("/a", b"x", {})
    assert len(checks) == 1 and server.accepted == 1  # checked, found usable


def test_a_fresh_connection_the_server_dropped_fails_once_then_recovers(server: RawServer,
                                                                        http: KeepAliveHttp):
    server.script = lambda request: (ok()(request)[0], True)  # answers, then closes
    assert http.post("/a", b"1", {}).status == 200
    server.wait_for(lambda: server.hung_up == 1)
    # Within the unchecked window the dead socket is found by using it: no answer,
    # which the caller's retries handle like any lost connection.
    with pytest.raises(TransportError):
        http.post("/a", b"2", {})
    assert http.post("/a", b"3", {}).status == 200
    assert server.accepted == 2
    assert [r.body for r in server.received] == [b"1", b"3"]


def test_connection_close_in_the_answer_drops_the_connection(server: RawServer,
                                                              http: KeepAliveHttp):
    server.script = ok(extra="Connection: close\r\n")
    http.post("/a", b"1", {})
    http.post("/a", b"2", {})
    assert server.accepted == 2
    server.wait_for(lambda: server.ended == 2)  # the client closed both


def test_every_status_is_an_answer(server: RawServer, http: KeepAliveHttp):
    server.script = lambda _: (b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n"
                               b"Content-Length: 2\r\n\r\n{}", False)
    answer = http.post("/a", b"", {})
    assert (answer.status, answer.reason) == (429, "Too Many Requests")
    assert answer.headers["retry-after"] == "3"
    assert http.post("/a", b"", {}).status == 429
    assert server.accepted == 1  # an error status does not cost the connection


def test_each_thread_keeps_its_own_connection(server: RawServer, http: KeepAliveHttp):
    barrier = threading.Barrier(3, timeout=WAIT)

    def twice() -> None:
        http.post("/a", b"x", {})
        barrier.wait()  # all three hold a connection before any posts again
        http.post("/a", b"y", {})

    threads = [threading.Thread(target=twice) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert server.accepted == 3
    by_connection: dict[int, list[bytes]] = {}
    for request in server.received:
        by_connection.setdefault(request.connection, []).append(request.body)
    assert sorted(by_connection.values()) == [[b"x", b"y"]] * 3


def test_close_closes_every_threads_connection(server: RawServer, http: KeepAliveHttp):
    threads = [threading.Thread(target=http.post, args=("/a", b"x", {})) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    http.post("/a", b"x", {})
    assert server.accepted == 3
    http.close()
    server.wait_for(lambda: server.ended == 3)
    assert http.post("/a", b"after", {}).status == 200  # a call after close opens anew
    assert server.accepted == 4


def test_no_answer_in_time_is_a_transport_error_and_not_retried(server: RawServer):
    server.script = lambda _: (None, False)
    client = KeepAliveHttp(server.url, connect_timeout=1, read_timeout=0.2)
    try:
        with pytest.raises(TransportError, match="timed out"):
            client.post("/a", b"x", {})
        assert len(server.received) == 1
    finally:
        client.close()


def test_a_refused_connection_is_a_transport_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = KeepAliveHttp(f"http://127.0.0.1:{port}", connect_timeout=1, read_timeout=1)
    with pytest.raises(TransportError, match="ConnectionRefusedError"):
        client.post("/a", b"x", {})


def test_a_reply_that_is_not_http_is_a_transport_error(server: RawServer,
                                                        http: KeepAliveHttp):
    server.script = lambda _: (b"SSH-2.0-OpenSSH\r\n\r\n", True)
    with pytest.raises(TransportError, match="not an HTTP/1.x status line"):
        http.post("/a", b"x", {})
    server.script = ok()
    assert http.post("/a", b"x", {}).status == 200  # on a new connection
    assert server.accepted == 2


def test_a_body_declared_over_the_limit_is_not_read(server: RawServer, http: KeepAliveHttp):
    server.script = ok(body=b"0123456789abcdef")
    answer = http.request("GET", "/a", headers={}, limit=8)
    assert (answer.status, answer.body, answer.complete) == (200, b"", False)
    assert answer.declared_length == 16
    http.post("/a", b"x", {})
    assert server.accepted == 2  # the body was never read: that socket is not reused


def _chunked(*chunks: bytes) -> Script:
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    return lambda _: (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + encoded,
                      False)


def test_a_body_that_runs_past_the_limit_is_cut(server: RawServer, http: KeepAliveHttp):
    server.script = _chunked(b"01234", b"56789abcdef")
    answer = http.request("GET", "/a", headers={}, limit=8)
    assert (answer.body, answer.complete, answer.declared_length) == (b"01234567", False, None)
    http.post("/a", b"x", {})
    assert server.accepted == 2  # the rest is still on the way: not reused


def test_a_body_of_exactly_the_limit_is_complete(server: RawServer, http: KeepAliveHttp):
    server.script = _chunked(b"0123", b"4567")
    answer = http.request("GET", "/a", headers={}, limit=8)
    assert (answer.body, answer.complete) == (b"01234567", True)
    http.post("/a", b"x", {})
    assert server.accepted == 1


def test_the_default_limit_cuts_any_answer(server: RawServer, http: KeepAliveHttp,
                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(keepalive, "MAX_BODY_BYTES", 4)
    server.script = _chunked(b"0123456789")
    answer = http.post("/a", b"x", {})
    assert (answer.body, answer.complete) == (b"0123", False)


@pytest.mark.parametrize("url", ["ftp://example.com", "127.0.0.1:80", "http://"])
def test_a_base_url_that_is_not_http_is_refused(url: str):
    with pytest.raises(ValueError, match="not an http"):
        KeepAliveHttp(url, connect_timeout=1, read_timeout=1)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def _tls_server(certificate: tuple[str, str]) -> RawServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return RawServer(tls=context)


def test_https_is_verified_and_kept(certificate: tuple[str, str]):
    with _tls_server(certificate) as server:
        trusting = ssl.create_default_context(cafile=certificate[0])
        client = KeepAliveHttp(server.url, connect_timeout=2, read_timeout=2,
                               ssl_context=trusting)
        try:
            assert [client.post("/a", b"x", {}).status for _ in range(2)] == [200, 200]
            assert server.accepted == 1
        finally:
            client.close()


def test_https_refuses_a_certificate_it_cannot_verify(certificate: tuple[str, str]):
    with _tls_server(certificate) as server:
        client = KeepAliveHttp(server.url, connect_timeout=2, read_timeout=2)  # system CAs
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            client.post("/a", b"x", {})
        assert server.received == []

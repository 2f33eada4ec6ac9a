"""One HTTP/1.1 request and its response on a kept socket, written and read directly.

``KeepAliveHttp`` used ``http.client`` for the exchange. On the benchmark machine that
cost 65-70 us of CPU per LINE reply in one thread, against about 22 us for the same
exchange done here, and under a worker's 32 threads the difference came to about
0.1 ms per dialog turn (docs/performance.md, item 38): ``http.client`` sends the head
and the body in two system calls, builds a buffered file and a response object per
answer, and parses the headers through the ``email`` package. What we ask of HTTP is
small: our own requests to a platform's API, and its answers, which are a status
line, headers and a body framed by ``Content-Length``, by chunks, or (rarely) by the
end of the connection (RFC 9112, section 6). Connecting, TLS included, stays with the
standard library.

Anything this cannot read for certain (a malformed status line or header, a head
past ``MAX_HEAD_BYTES``, a bad chunk) is a ``MalformedResponse``, and the caller drops
the connection: its state is unknown.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass

#: Longest response head (status line and headers) read before giving up.
MAX_HEAD_BYTES = 64 * 1024
#: Most header lines in one response head.
MAX_HEADERS = 100
_READ = 65536
_NO_BODY_STATUSES = frozenset({204, 304})


class MalformedResponse(Exception):
    """The peer's bytes are not an HTTP/1.x response we can frame, or it closed the
    connection before a whole one arrived."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP response. ``headers`` has lower-case names. ``complete`` is False
    when the body was longer than the caller's limit: ``body`` then holds at most
    the limit (nothing at all when the declared length was already over it)."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    complete: bool = True

    @property
    def declared_length(self) -> int | None:
        """The body's ``Content-Length``, if the server gave a valid one."""
        try:
            return _content_length(self.headers)
        except MalformedResponse:
            return None


@dataclass(frozen=True, slots=True)
class Response(Answer):
    """An answer as read, with whether its connection can carry another request."""

    reusable: bool = False


def encode_request(method: str, host: str, target: str, headers: dict[str, str],
                   body: bytes | None) -> bytes:
    """The request's bytes: request line, the caller's headers (a value or name with
    a line break is refused, as ``http.client`` refuses it), and, unless the caller
    gave them, ``Host``, an identity ``Accept-Encoding`` (we do not decode compressed
    bodies) and a ``Content-Length`` for any body."""
    lines = [f"{method} {target} HTTP/1.1"]
    named = set()
    for name, value in headers.items():
        if "\r" in name or "\n" in name or ":" in name or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} holds a line break or a colon in its name")
        named.add(name.lower())
        lines.append(f"{name}: {value}")
    if "host" not in named:
        lines.insert(1, f"Host: {host}")
    if "accept-encoding" not in named:
        lines.append("Accept-Encoding: identity")
    if "content-length" not in named and (body is not None or method in ("POST", "PUT", "PATCH")):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Exchange:
    """Reads responses from ``sock``, keeping what arrived beyond the current one."""

    __slots__ = ("sock", "closed", "_buffer", "__weakref__")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False
        self._buffer = b""

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    def send(self, request: bytes) -> None:
        self.sock.sendall(request)

    def response(self, method: str, limit: int) -> Response:
        """The next response, its body read up to ``limit`` bytes. Socket errors and
        time-outs propagate as ``OSError``."""
        version, status, reason, headers = self._head()
        while 100 <= status < 200 and status != 101:  # interim answers come first
            version, status, reason, headers = self._head()
        keep = _keeps_alive(version, headers)
        if method == "HEAD" or status < 200 or status in _NO_BODY_STATUSES:
            return Response(status, reason, headers, b"", True, keep and not self._buffer)
        coding = headers.get("transfer-encoding")
        if coding is not None:
            if coding.lower().rsplit(",", 1)[-1].strip() != "chunked":
                return self._until_close(status, reason, headers, limit)
            body, complete = self._chunked(limit)
            return Response(status, reason, headers, body, complete,
                            keep and complete and not self._buffer)
        length = _content_length(headers)
        if length is None:
            return self._until_close(status, reason, headers, limit)
        if length > limit:  # declared over the limit: not read at all
            return Response(status, reason, headers, b"", False, False)
        body = self._exactly(length)
        return Response(status, reason, headers, body, True, keep and not self._buffer)

    def _head(self) -> tuple[str, int, str, dict[str, str]]:
        end = self._buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise MalformedResponse(f"response head longer than {MAX_HEAD_BYTES} bytes")
            self._fill("before the whole response head")
            end = self._buffer.find(b"\r\n\r\n")
        head, self._buffer = self._buffer[:end], self._buffer[end + 4:]
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise MalformedResponse(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        if len(lines) > MAX_HEADERS:
            raise MalformedResponse(f"more than {MAX_HEADERS} header lines")
        headers: dict[str, str] = {}
        last = ""
        for line in lines:
            if line[:1] in (" ", "\t") and last:  # an obsolete folded continuation
                headers[last] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip() or " " in name:
                raise MalformedResponse(f"not a header line: {line[:80]!r}")
            last = name.lower()
            value = value.strip()
            # A repeated field is one list (RFC 9110, section 5.3): two differing
            # Content-Length lines then read as "5, 10" and are refused, instead of
            # the last one silently framing the body.
            headers[last] = f"{headers[last]}, {value}" if last in headers else value
        return version, int(code), reason, headers

    def _fill(self, what: str) -> None:
        data = self.sock.recv(_READ)
        if not data:
            raise MalformedResponse(f"connection closed {what}")
        self._buffer += data

    def _exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill(f"{count - len(self._buffer)} bytes short of the body")
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _line(self) -> bytes:
        end = self._buffer.find(b"\r\n")
        while end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise MalformedResponse("chunk line too long")
            self._fill("inside a chunked body")
            end = self._buffer.find(b"\r\n")
        line, self._buffer = self._buffer[:end], self._buffer[end + 2:]
        return line

    def _chunked(self, limit: int) -> tuple[bytes, bool]:
        parts: list[bytes] = []
        size_read = 0
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise MalformedResponse(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                while self._line():  # trailer fields, up to the empty line
                    pass
                return b"".join(parts), True
            if size_read + size > limit:  # the rest is still on its way: stop here
                parts.append(self._exactly(min(size, limit - size_read)))
                return b"".join(parts), False
            parts.append(self._exactly(size))
            size_read += size
            if self._exactly(2) != b"\r\n":
                raise MalformedResponse("chunk not followed by CRLF")

    def _until_close(self, status: int, reason: str, headers: dict[str, str],
                     limit: int) -> Response:
        """A body that ends with the connection (no length, no chunks): read to the
        end or past the limit; the connection cannot be used again either way."""
        while len(self._buffer) <= limit:
            data = self.sock.recv(_READ)
            if not data:
                break
            self._buffer += data
        body, self._buffer = self._buffer, b""
        return Response(status, reason, headers, body[:limit], len(body) <= limit, False)


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    # Repeated identical values ("10, 10") are one length; anything else is not.
    values = {v.strip() for v in value.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise MalformedResponse(f"bad Content-Length {value[:40]!r}")
    return int(values.pop())


def _keeps_alive(version: str, headers: dict[str, str]) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens

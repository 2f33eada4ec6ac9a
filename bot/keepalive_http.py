"""Keep-alive HTTP(S) connections to one host, one per thread: for the hottest calls,
and for downloads that must stop at a size limit.

A worker sends one LINE reply per dialog turn. Through the SDK's ``ApiClient`` and
urllib3 that request cost about 190 us of CPU on the benchmark machine, of which the
request itself (``http.client`` on a kept connection) was about 70 us: the rest is
generic machinery the reply does not need (the SDK's serialisation pass over a body
we have already built and validated, urllib3's pool lending, its timeout and retry
objects, its response wrapper). docs/performance.md, item 34. The exchange itself is
now written and read by ``bot.http_exchange`` (item 38); connecting and TLS are the
standard library's.

What urllib3 gave that still matters is kept here: a connection that has been idle
is checked before reuse (a server that closed it, or wrote to it unasked, makes it
useless) and replaced; each thread has its own, so there is no lending; the connect
and read timeouts are separate; a failed request closes its connection and is never
retried here (a reply may have been taken even if its answer was lost, so whether to
try again is the caller's decision, with what it knows).

A body is read only up to the caller's limit: a LINE image a customer sends is
refused by its declared length before any of it is read, or once the limit is
passed, instead of after the whole of it is in memory (the SDK reads every body in
full before returning it).
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Mapping
from urllib.parse import urlsplit

from bot.http_exchange import Answer, Exchange, MalformedResponse, encode_request

#: Bytes of a response body read unless the caller says otherwise. A platform's
#: answer to a send is a few hundred bytes; a larger body is cut here (and its
#: connection closed, its rest unread) rather than held in memory.
MAX_BODY_BYTES = 1 << 20


class TransportError(Exception):
    """No HTTP answer: refused, reset, timed out, TLS failure or a malformed response."""


class KeepAliveHttp:
    """``POST``s to ``base_url`` (scheme, host, port and an optional path prefix).

    Thread-safe: each thread uses its own connection, opened on its first call.
    ``close`` closes every thread's connection; a call after it opens a new one.
    """

    def __init__(self, base_url: str, *, connect_timeout: float, read_timeout: float,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        default_port = 443 if self._https else 80
        self._port = parts.port or default_port
        self._prefix = parts.path.rstrip("/")
        name = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = name if self._port == default_port else f"{name}:{self._port}"
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl = (ssl_context or ssl.create_default_context()) if self._https else None
        self._local = threading.local()
        # Every open connection, so ``close`` reaches other threads' too; a thread
        # that ends drops its own (the set holds them weakly).
        self._open: weakref.WeakSet[Exchange] = weakref.WeakSet()
        self._lock = threading.Lock()

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """One POST of ``body``; see ``request``."""
        return self.request("POST", path, body=body, headers=headers)

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str], limit: int | None = None) -> Answer:
        """One request to the base URL's path + ``path``; raises ``TransportError``
        when there is no answer. Any status is an answer. At most ``limit`` bytes of
        the body are read (``MAX_BODY_BYTES`` by default): a body the server
        declares longer is not read at all, and the connection of a body cut short
        is closed, since the rest of it is still on the way."""
        limit = MAX_BODY_BYTES if limit is None else limit
        request = encode_request(method, self._host_header, self._prefix + path,
                                 dict(headers), body)
        kept = self._connection()
        try:
            kept.send(request)
            response = kept.response(method, limit)
        except (OSError, MalformedResponse) as exc:
            self._drop(kept)
            raise TransportError(f"{type(exc).__name__}: {exc}" if str(exc)
                                 else type(exc).__name__) from exc
        if response.reusable:
            self._local.answered = time.monotonic()
        else:
            self._drop(kept)  # cut short, or the server ends it: not reusable
        return response

    def close(self) -> None:
        with self._lock:
            connections = list(self._open)
            self._open.clear()
        for connection in connections:
            connection.close()

    #: A kept connection whose last answer is older than this (seconds) is checked
    #: before its next request. The check is a syscall that lets go of the GIL, about
    #: 2 % of a busy worker's CPU when made before every reply; a server that ends a
    #: connection it has just answered on says so in that answer (``Connection:
    #: close``), and one that restarted in between costs a status-0 error that the
    #: outbox retries, as any lost connection does.
    stale_check_after = 0.5

    def _connection(self) -> Exchange:
        """This thread's open connection, checked if it has been idle, or a new one
        (connected here, so the connect timeout applies to the TCP and TLS
        handshakes only)."""
        local = self._local
        kept: Exchange | None = getattr(local, "connection", None)
        if kept is not None:
            fresh = time.monotonic() - local.answered < self.stale_check_after
            if not kept.closed and (fresh or not _unusable(kept.sock)):
                return kept
            self._drop(kept)
        try:
            sock = socket.create_connection((self._host, self._port),
                                            timeout=self._connect_timeout)
        except OSError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self._host)
            sock.settimeout(self._read_timeout)
        except OSError as exc:
            sock.close()
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        kept = Exchange(sock)
        local.connection = kept
        local.answered = float("-inf")
        with self._lock:
            self._open.add(kept)
        return kept

    def _drop(self, kept: Exchange) -> None:
        kept.close()
        if getattr(self._local, "connection", None) is kept:
            self._local.connection = None
        with self._lock:
            self._open.discard(kept)


def _unusable(sock: object) -> bool:
    """True when an idle kept connection has something to read: the server closed
    it (end of file) or sent bytes nobody asked for. Either way it cannot carry the
    next request. One ``poll`` with no wait, as urllib3 does before reusing one."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))

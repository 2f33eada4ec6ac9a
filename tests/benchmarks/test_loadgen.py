"""The benchmark's load generator against real loopback servers: it delivers every
webhook when the server closes connections (``Connection: close``, HTTP/1.0, or
closing a kept connection without a word), and counts errors without hanging when
the server never answers."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

import pytest

from benchmarks import loadgen, payloads

PATH = "/webhooks/line"
KEEP = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"

# What the server does after reading request number ``n`` (0-based) on one
# connection: the bytes it answers with (None: close without answering) and
# whether it closes the connection after answering.
Policy = Callable[[int], tuple[bytes | None, bool]]


def _read_request(stream: BinaryIO) -> str | None:
    """The reply token of the next request on ``stream``, None at its end."""
    line = stream.readline()
    if not line:
        return None
    length = 0
    while line not in (b"\r\n", b""):
        line = stream.readline()
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = stream.read(length)
    return json.loads(body)["events"][0]["replyToken"]


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True  # server_close() joins the connection threads

    def __init__(self, policy: Policy, *, drop_at_once: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.policy = policy
        self.drop_at_once = drop_at_once
        self.lock = threading.Lock()
        self.connections = 0
        self.received: list[str] = []  # reply tokens, in arrival order, repeats kept

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(5)
        with self.server.lock:
            self.server.connections += 1
        if self.server.drop_at_once:
            return
        served = 0
        try:
            with sock.makefile("rb") as stream:
                while True:
                    token = _read_request(stream)
                    if token is None:
                        return
                    with self.server.lock:
                        self.server.received.append(token)
                        answer, close = self.server.policy(served)
                    if answer is None:
                        return
                    sock.sendall(answer)
                    served += 1
                    if close:
                        return
        except OSError:  # the client went away (or the 5 s timeout)
            return


@contextmanager
def _serving(policy: Policy, *, drop_at_once: bool = False) -> Iterator[_Server]:
    server = _Server(policy, drop_at_once=drop_at_once)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _hooks(batch: str, count: int) -> list[payloads.Webhook]:
    return list(payloads.round_robin(batch, count, users=8))


def _drive(server: _Server, hooks: list[payloads.Webhook], concurrency: int = 4
           ) -> loadgen.LoadResult:
    return loadgen.drive(server.port, PATH, hooks, concurrency=concurrency, timeout=10.0)


def _all_ok_once(result: loadgen.LoadResult, server: _Server,
                 hooks: list[payloads.Webhook]) -> None:
    tokens = [hook.reply_token for hook in hooks]
    assert result.errors == 0
    assert result.sent == result.ok == len(hooks)
    assert len(result.latencies) == len(hooks)
    assert set(result.sent_at) == set(tokens)
    assert Counter(server.received) == Counter(tokens)  # every webhook exactly once


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK",
    b"HTTP/1.1 200 OK\r\nconnection: TE, Close\r\nContent-Length: 2\r\n\r\nOK",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    b"2\r\nOK\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nOK",  # the body ends with the connection
], ids=["close", "token-list", "chunked-close", "http10", "close-delimited"])
def test_every_webhook_arrives_when_the_server_closes_after_each_answer(answer: bytes
                                                                        ) -> None:
    # gunicorn's sync worker answers every request like this and closes.
    hooks = _hooks("lgclose", 40)
    with _serving(lambda served: (answer, True)) as server:
        result = _drive(server, hooks)
    _all_ok_once(result, server, hooks)
    assert server.connections == len(hooks)


@pytest.mark.parametrize("answer", [
    KEEP,
    b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nOK",
    b"HTTP/1.1 204 No Content\r\n\r\n",
], ids=["http11", "http10-keep-alive", "no-content"])
def test_kept_connections_are_reused(answer: bytes) -> None:
    hooks = _hooks("lgkeep", 40)
    with _serving(lambda served: (answer, False)) as server:
        result = _drive(server, hooks)
    _all_ok_once(result, server, hooks)
    assert server.connections <= 4


@pytest.mark.parametrize("every", [1, 3])
def test_a_kept_connection_closed_without_a_word_is_reopened_and_the_webhook_sent_again(
        every: int) -> None:
    # The server closes after every ``every``-th answer without saying so, before
    # reading the next request: that request is sent again on a new connection.
    hooks = _hooks("lgidle", 60)
    with _serving(lambda served: (KEEP, served + 1 == every)) as server:
        result = _drive(server, hooks)
    _all_ok_once(result, server, hooks)
    assert server.connections >= len(hooks) // every


@pytest.mark.parametrize("drop_at_once", [False, True], ids=["after-reading", "at-once"])
def test_a_server_that_never_answers_gives_errors_and_the_run_ends(drop_at_once: bool
                                                                    ) -> None:
    hooks = _hooks("lgdrop", 20)
    started = time.monotonic()
    with _serving(lambda served: (None, True), drop_at_once=drop_at_once) as server:
        result = _drive(server, hooks)
    assert time.monotonic() - started < 10
    assert result.sent == result.errors == len(hooks)
    assert result.ok == 0 and not result.latencies
    if not drop_at_once:
        # Every request failed on a fresh connection: an error at once, no second try.
        assert Counter(server.received) == Counter(hook.reply_token for hook in hooks)


def test_a_webhook_is_sent_again_once_only() -> None:
    # Only the very first request is answered; every later one is read and dropped.
    # The second webhook fails on the kept connection, is sent again on a new one,
    # fails there too and is an error; the rest fail on fresh connections at once.
    answered: list[int] = []

    def first_only(served: int) -> tuple[bytes | None, bool]:
        if answered:
            return None, True
        answered.append(served)
        return KEEP, False

    hooks = _hooks("lgonce", 5)
    with _serving(first_only) as server:
        result = _drive(server, hooks, concurrency=1)
    tokens = [hook.reply_token for hook in hooks]
    assert (result.sent, result.ok, result.errors) == (5, 1, 4)
    assert set(result.sent_at) == set(tokens)
    assert Counter(server.received) == Counter(tokens) + Counter([tokens[1]])

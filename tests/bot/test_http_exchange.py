"""bot.http_exchange: the request bytes we send, and how each way a response can be
framed is read from a real socket (a socket pair: the test writes the server's side)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bot.http_exchange import (
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    Exchange,
    MalformedResponse,
    encode_request,
)

LIMIT = 1 << 20


@pytest.fixture
def pair() -> Iterator[tuple[Exchange, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    yield Exchange(ours), theirs
    ours.close()
    theirs.close()


def answer(exchange: Exchange, server: socket.socket, data: bytes, *, method: str = "POST",
           limit: int = LIMIT, close: bool = False):  # noqa: ANN201
    server.sendall(data)
    if close:
        server.shutdown(socket.SHUT_WR)
    return exchange.response(method, limit)


def test_the_request_is_one_block_with_host_length_and_identity_encoding():
    data = encode_request("POST", "api.line.me", "/v2/bot/message/reply",
                          {"Authorization": "Bearer t"}, b'{"a":1}')
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [b"POST /v2/bot/message/reply HTTP/1.1", b"Host: api.line.me",
                                   b"Authorization: Bearer t", b"Accept-Encoding: identity",
                                   b"Content-Length: 7"]
    assert body == b'{"a":1}'


def test_headers_the_caller_gave_are_not_added_again():
    data = encode_request("POST", "h", "/", {"Host": "other", "Content-Length": "2",
                                             "Accept-Encoding": "gzip"}, b"{}")
    assert data == (b"POST / HTTP/1.1\r\nHost: other\r\nContent-Length: 2\r\n"
                    b"Accept-Encoding: gzip\r\n\r\n{}")


def test_a_get_has_no_length_and_a_given_encoding_is_kept():
    data = encode_request("GET", "h:8080", "/c", {"accept-encoding": "gzip"}, None)
    assert data == b"GET /c HTTP/1.1\r\nHost: h:8080\r\naccept-encoding: gzip\r\n\r\n"
    assert b"Content-Length: 0" in encode_request("POST", "h", "/", {}, None)


@pytest.mark.parametrize("name,value", [("X-A", "1\r\nX-Injected: 2"), ("X-A\n", "1"),
                                        ("X:A", "1")])
def test_a_header_that_would_split_the_head_is_refused(name: str, value: str):
    with pytest.raises(ValueError, match="line break"):
        encode_request("POST", "h", "/", {name: value}, b"")


def test_a_sized_answer_keeps_the_connection(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                   b"X-Line-Request-Id: abc\r\n\r\nhello")
    assert (got.status, got.reason, got.body, got.complete, got.reusable) == (
        200, "OK", b"hello", True, True)
    assert got.headers == {"content-length": "5", "x-line-request-id": "abc"}
    again = answer(exchange, server,
                   b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\n{}")
    assert (again.status, again.reason, again.body) == (429, "Too Many Requests", b"{}")


def test_an_answer_arriving_a_byte_at_a_time_is_read_whole(pair):
    exchange, server = pair
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"

    def trickle() -> None:
        for i in range(len(data)):
            server.sendall(data[i:i + 1])
            time.sleep(0.001)

    writer = threading.Thread(target=trickle)
    writer.start()
    got = exchange.response("POST", LIMIT)
    writer.join(5)
    assert (got.body, got.complete, got.reusable) == (b"abcde", True, True)


def test_interim_answers_are_skipped(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 100 Continue\r\n\r\n"
                                   b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    assert (got.status, got.body, got.reusable) == (201, b"", True)


@pytest.mark.parametrize("status,method", [(204, "POST"), (304, "GET"), (200, "HEAD")])
def test_answers_without_a_body_read_none(pair, status: int, method: str):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 %d X\r\nContent-Length: 9\r\n\r\n" % status,
                 method=method)
    assert (got.status, got.body, got.reusable) == (status, b"", True)


def test_chunks_with_extensions_and_trailers(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"4;name=x\r\nabcd\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n")
    assert (got.body, got.complete, got.reusable) == (b"abcd0123456789", True, True)


def test_a_chunked_body_past_the_limit_is_cut_and_the_connection_given_up(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", limit=7)
    assert (got.body, got.complete, got.reusable) == (b"0123456", False, False)


def test_a_body_declared_over_the_limit_is_not_read(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
                 limit=9)
    assert (got.body, got.complete, got.reusable) == (b"", False, False)
    assert got.headers["content-length"] == "10"


@pytest.mark.parametrize("head", [b"HTTP/1.1 200 OK\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"])
def test_a_body_without_length_or_chunks_ends_with_the_connection(pair, head: bytes):
    exchange, server = pair
    got = answer(exchange, server, head + b"all of it", close=True)
    assert (got.body, got.complete, got.reusable) == (b"all of it", True, False)


def test_a_body_ending_with_the_connection_stops_past_the_limit(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100, limit=10,
                 close=True)
    assert (got.body, got.complete, got.reusable) == (b"x" * 10, False, False)


@pytest.mark.parametrize("head,reusable", [
    (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
])
def test_whether_the_server_keeps_the_connection(pair, head: bytes, reusable: bool):
    exchange, server = pair
    assert answer(exchange, server, head).reusable is reusable


def test_bytes_nobody_asked_for_after_an_answer_make_the_connection_unusable(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
    assert (got.body, got.reusable) == (b"ok", False)


def test_repeated_fields_are_one_list(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                   b"Vary: a\r\ncontent-length: 2\r\nVary: b\r\n\r\nok")
    assert (got.body, got.headers["vary"], got.declared_length) == (b"ok", "a, b", 2)


def test_repeated_equal_lengths_are_one_and_folded_lines_are_joined(pair):
    exchange, server = pair
    got = answer(exchange, server, b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n"
                                   b"X-Long: one\r\n  two\r\n\r\nok")
    assert (got.body, got.headers["x-long"]) == (b"ok", "one two")


@pytest.mark.parametrize("data,message", [
    (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1.x status line"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "not a header line"),
    (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "not a header line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nabc", "bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
     "bad Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n",
     "not followed by CRLF"),
])
def test_what_cannot_be_framed_is_malformed(pair, data: bytes, message: str):
    exchange, server = pair
    with pytest.raises(MalformedResponse, match=message):
        answer(exchange, server, data)


def test_too_many_headers_or_too_long_a_head_is_malformed(pair):
    exchange, server = pair
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADERS + 1))
    with pytest.raises(MalformedResponse, match="header lines"):
        answer(exchange, server, b"HTTP/1.1 200 OK\r\n" + many + b"\r\n")


def test_a_head_that_never_ends_is_given_up(pair):
    exchange, server = pair
    writer = threading.Thread(target=server.sendall,
                              args=(b"HTTP/1.1 200 OK\r\nX: " + b"y" * (MAX_HEAD_BYTES + 10),))
    writer.start()
    with pytest.raises(MalformedResponse, match="longer than"):
        exchange.response("POST", LIMIT)
    writer.join(5)


@pytest.mark.parametrize("data,message", [
    (b"", "before the whole response head"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", "6 bytes short of the body"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "short of the body"),
])
def test_a_connection_closed_mid_answer_is_malformed(pair, data: bytes, message: str):
    exchange, server = pair
    with pytest.raises(MalformedResponse, match=message):
        answer(exchange, server, data, close=True)


def test_no_answer_in_time_is_the_sockets_timeout(pair):
    exchange, _ = pair
    exchange.sock.settimeout(0.05)
    with pytest.raises(TimeoutError):
        exchange.response("POST", LIMIT)

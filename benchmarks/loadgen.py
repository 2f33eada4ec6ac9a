"""A bounded closed-loop HTTP load generator (asyncio, keep-alive, loopback only).

``concurrency`` connections each send the next webhook as soon as the previous
answer arrived, until every webhook was sent once or ``timeout`` seconds passed.
Used for the end-to-end figures (a fixed count of webhooks, which wrk cannot do)
and as the fallback for ingest when wrk is missing. ``capacity`` measures what
it can drive against a server that does nothing, to show it is not the
bottleneck of the figures it produces.

Connections are reused as a real HTTP/1.1 client reuses them: not after an answer
with ``Connection: close``, an HTTP/1.0 answer without ``Connection: keep-alive``
or a body that ends with the connection (gunicorn's sync worker closes after
every answer); the next webhook then goes on a new connection, which is not an
error. A request on a reused connection that fails before any byte of its answer
arrived (the server closed the idle connection) is sent once more on a new
connection; a second failure, or any failure on a new connection, is an error
and drops that webhook. A webhook sent twice counts once in ``sent``; its
``sent_at`` and latency are from the last send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.payloads import Webhook


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    started: float = 0.0  # time.monotonic(), comparable with the fake platform's clock
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, 2xx only
    sent_at: dict[str, float] = field(default_factory=dict)  # reply token -> last send time

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


class _Reader(asyncio.StreamReader):
    """A stream reader that counts the bytes that arrived, to tell a request the
    server never began to answer from one it answered in part (the reading methods
    raise a connection's error before handing out what is buffered)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self.received = 0

    def feed_data(self, data: bytes) -> None:
        self.received += len(data)
        super().feed_data(data)


async def _connect(port: int) -> tuple[_Reader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` to 127.0.0.1, with a counting reader."""
    loop = asyncio.get_running_loop()
    reader = _Reader(loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await loop.create_connection(lambda: protocol, "127.0.0.1", port)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of the next answer, and whether its connection may be reused."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    version, status_text = lines[0].split(b" ", 2)[:2]
    status = int(status_text)
    length: int | None = None
    chunked = False
    connection: set[bytes] = set()
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection":
            connection.update(token.strip() for token in value.lower().split(b","))
    if version.upper() == b"HTTP/1.0":
        reusable = b"keep-alive" in connection and b"close" not in connection
    else:
        reusable = b"close" not in connection
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    elif length is None and status >= 200 and status not in (204, 304):
        # No length and not chunked: the body ends when the server closes. It is
        # not needed, so it is not waited for; the connection cannot be reused.
        reusable = False
    return status, reusable


# How a kept connection the server closed while idle fails the next request.
_IDLE_CLOSED = (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError)


def _request(path: str, hook: Webhook, port: int) -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"X-Line-Signature: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (path.encode(), port, hook.signature.encode(), len(hook.body), hook.body))


async def _drive(port: int, path: str, hooks: Sequence[Webhook], concurrency: int,
                 timeout: float) -> LoadResult:
    result = LoadResult()
    queue = iter(hooks)
    deadline = time.monotonic() + timeout

    async def connection() -> None:
        reader: _Reader | None = None
        writer: asyncio.StreamWriter | None = None
        reused = False  # the connection already carried a whole answer
        try:
            for hook in queue:
                if time.monotonic() > deadline:
                    return
                request = _request(path, hook, port)
                result.sent += 1
                retried = False
                while True:
                    if reader is None or writer is None:
                        reader, writer = await _connect(port)
                        reused = False
                    start = time.monotonic()
                    result.sent_at[hook.reply_token] = start
                    received = reader.received
                    try:
                        writer.write(request)
                        status, reusable = await read_response(reader)
                    except (asyncio.IncompleteReadError, ConnectionError) as exc:
                        unanswered = (reused and reader.received == received
                                      and isinstance(exc, _IDLE_CLOSED))
                        writer.close()
                        reader = writer = None
                        if unanswered and not retried and time.monotonic() <= deadline:
                            retried = True
                            continue
                        result.errors += 1
                        break
                    if 200 <= status < 300:
                        result.ok += 1
                        result.latencies.append(time.monotonic() - start)
                    else:
                        result.errors += 1
                    if reusable:
                        reused = True
                    else:
                        writer.close()
                        reader = writer = None
                    break
        finally:
            if writer is not None:
                writer.close()

    result.started = time.monotonic()
    tasks = [asyncio.create_task(connection()) for _ in range(concurrency)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout + 5)
    finally:
        result.finished = time.monotonic()
        for task in tasks:
            task.cancel()
    return result


def drive(port: int, path: str, hooks: Sequence[Webhook], *, concurrency: int = 16,
          timeout: float = 60.0) -> LoadResult:
    """Send every webhook once over ``concurrency`` keep-alive connections."""
    return asyncio.run(_drive(port, path, hooks, concurrency, timeout))


async def _null_server(port: int, stop: asyncio.Event) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", port)
    async with server:
        await stop.wait()


def capacity(hooks: Sequence[Webhook], port: int, *, concurrency: int = 16) -> float:
    """Requests per second this generator drives against an in-process null server
    (generator and server share one core here, so the real ceiling is higher)."""
    async def run() -> LoadResult:
        stop = asyncio.Event()
        server = asyncio.create_task(_null_server(port, stop))
        await asyncio.sleep(0.1)
        try:
            return await _drive(port, "/", hooks, concurrency, 30.0)
        finally:
            stop.set()
            await server

    return asyncio.run(run()).rate

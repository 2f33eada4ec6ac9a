"""A bounded closed-loop HTTP load generator (asyncio, keep-alive, loopback only).

``concurrency`` connections each send the next webhook as soon as the previous
answer arrived, until every webhook was sent once or ``timeout`` seconds passed.
Used for the end-to-end figures (a fixed count of webhooks, which wrk cannot do)
and as the fallback for ingest when wrk is missing. ``capacity`` measures what
it can drive against a server that does nothing, to show it is not the
bottleneck of the figures it produces.
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
    sent_at: dict[str, float] = field(default_factory=dict)  # reply token -> send time

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


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
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for hook in queue:
                if time.monotonic() > deadline:
                    return
                start = time.monotonic()
                result.sent_at[hook.reply_token] = start
                result.sent += 1
                writer.write(_request(path, hook, port))
                try:
                    status = await _read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    result.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if 200 <= status < 300:
                    result.ok += 1
                    result.latencies.append(time.monotonic() - start)
                else:
                    result.errors += 1
        finally:
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

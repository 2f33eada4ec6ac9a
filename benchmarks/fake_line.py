"""A minimal fast fake of the LINE Messaging API, for load on loopback only.

It answers what chatcart and the echo bot call during a dialog turn (reply, push,
profile, quota) after an optional fixed delay, and records when each reply token
came back. One asyncio loop with a hand-rolled HTTP/1.1 keep-alive parser: at the
rates measured here it stays a small share of one core, unlike the full sandbox
emulator, which validates every message and would weigh on the figures.

Control endpoints (never delayed): ``GET /_bench/stats``, ``GET /_bench/arrivals``,
``POST /_bench/reset``, ``POST /_bench/delay?ms=N``.

Run: ``python -m benchmarks.fake_line --port P [--delay-ms N] [--max-seconds S]``.
The process stops on SIGTERM/SIGINT or after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

MAX_BODY = 1024 * 1024


class FakeLine:
    def __init__(self, delay_ms: float = 0.0) -> None:
        self.delay = delay_ms / 1000
        self.reset()

    def reset(self) -> None:
        self.counts = {"reply": 0, "push": 0, "profile": 0, "other": 0}
        self.first: float | None = None
        self.last: float | None = None
        self.arrivals: dict[str, float] = {}
        self.next_id = 1

    def stats(self) -> dict:
        return {**self.counts, "first": self.first, "last": self.last,
                "delay_ms": self.delay * 1000}

    def _sent(self) -> bytes:
        self.next_id += 1
        return b'{"sentMessages":[{"id":"%d","quoteToken":"q"}]}' % self.next_id

    async def handle(self, method: str, target: str, body: bytes) -> tuple[int, bytes]:
        path = target.split("?", 1)[0]
        if path.startswith("/_bench/"):
            return self.control(method, target, path)
        now = time.monotonic()
        if path == "/v2/bot/message/reply" and method == "POST":
            token = json.loads(body).get("replyToken", "")
            self.arrivals[token] = now
            self.first = self.first if self.first is not None else now
            self.last = now
            kind, answer = "reply", None
        elif path == "/v2/bot/message/push" and method == "POST":
            kind, answer = "push", None
        elif path.startswith("/v2/bot/profile/"):
            user = path.rsplit("/", 1)[-1]
            kind = "profile"
            answer = json.dumps({"userId": user, "displayName": f"買家{user[-4:]}",
                                 "language": "zh-TW"}, ensure_ascii=False).encode()
        elif path == "/v2/bot/message/quota":
            kind, answer = "other", b'{"type":"none"}'
        elif path == "/v2/bot/message/quota/consumption":
            kind, answer = "other", b'{"totalUsage":0}'
        else:
            return 404, b'{"message":"Not found"}'
        self.counts[kind] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return 200, answer if answer is not None else self._sent()

    def control(self, method: str, target: str, path: str) -> tuple[int, bytes]:
        if path == "/_bench/stats":
            return 200, json.dumps(self.stats()).encode()
        if path == "/_bench/arrivals":
            return 200, json.dumps(self.arrivals).encode()
        if path == "/_bench/reset" and method == "POST":
            self.reset()
            return 200, b"{}"
        if path == "/_bench/delay" and method == "POST":
            query = parse_qs(urlsplit(target).query)
            self.delay = float(query.get("ms", ["0"])[0]) / 1000
            return 200, b"{}"
        return 404, b"{}"


class FakeLineClient:
    """The runner's side of the control endpoints."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _call(self, path: str, method: str = "GET") -> dict:
        with urlopen(Request(self.base_url + path, method=method), timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def stats(self) -> dict:
        return self._call("/_bench/stats")

    def arrivals(self) -> dict[str, float]:
        return self._call("/_bench/arrivals")

    def reset(self) -> None:
        self._call("/_bench/reset", "POST")

    def set_delay(self, ms: float) -> None:
        self._call(f"/_bench/delay?ms={ms:g}", "POST")


async def _serve_connection(fake: FakeLine, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            if length > MAX_BODY:
                return
            body = await reader.readexactly(length) if length else b""
            status, payload = await fake.handle(method, target, body)
            writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                         b"x-line-request-id: bench\r\nContent-Length: %d\r\n\r\n%s"
                         % (status, b"OK" if status == 200 else b"Not Found",
                            len(payload), payload))
            await writer.drain()
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    except asyncio.CancelledError:
        # Stopping with a client still connected cancels this handler. Ending it
        # normally keeps asyncio's stream callback (which asks a cancelled handler
        # for its exception) from logging a traceback for every open connection.
        return
    finally:
        writer.close()


async def serve(port: int, delay_ms: float, max_seconds: float) -> None:
    fake = FakeLine(delay_ms)
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(fake, r, w), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"fake LINE API on 127.0.0.1:{port}", flush=True)
    async with server:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay_ms, args.max_seconds))


if __name__ == "__main__":
    main()

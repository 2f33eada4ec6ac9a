"""The I/O of a binding turn alone, driven by threads (as chatcart's worker is) or by
one asyncio loop: CPU per turn of the process that drives it.

Each turn does what a worker's turn does to the outside and nothing else: the take
script, the code attempt script, a grouped SQL write of the message and the reply,
the LINE reply over a kept HTTP/1.1 connection, a grouped sent mark and the finishing
script, against a private Redis, a SQLite file in WAL mode and the fake LINE API.

``threads-httpclient``: 32 threads with our Redis client (``flows.redis_client``),
our group commit (``bot.group_commit``) and ``http.client``, as before item 38.
``threads``: the same with ``KeepAliveHttp``, as the worker does now.
``loop``: one asyncio loop with 32 tasks, ``redis.asyncio``, a group commit that
shares one transaction among the writes of one pass of the loop, and the request
written and read on an asyncio stream. The loop exists only here: it measures what
a worker that waits without threads could save (docs/performance.md, item 38).

Run: ``python -m benchmarks.io_shape [--turns 6000] [--concurrency 32] [--reps 2]``.
Each mode runs in a process of its own, modes alternating, so a spell of the host
falls on all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import redis.asyncio as aredis

MODES = ("threads-httpclient", "threads", "loop")
REPLY_PATH = "/v2/bot/message/reply"
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer io-shape"}
TAKE = ("local v = redis.call('LPOP', KEYS[1]) "
        "if v then redis.call('SET', KEYS[2] .. v, ARGV[1], 'PX', 30000) end return v")
ATTEMPT = ("local n = redis.call('INCR', KEYS[1] .. ARGV[1]) "
           "redis.call('PEXPIRE', KEYS[1] .. ARGV[1], 900000) return n")
FINISH = "return redis.call('DEL', KEYS[1] .. ARGV[1])"


def host_and_port(api: str) -> tuple[str, int]:
    host, port = api.removeprefix("http://").split(":")
    return host, int(port)


def reply_body(conversation: str) -> bytes:
    return json.dumps({"replyToken": f"io-{conversation}",
                       "messages": [{"type": "text", "text": "驗證碼不正確，請再試一次。"}]},
                      ensure_ascii=False).encode()


def open_database(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS inbound(id INTEGER PRIMARY KEY, conv TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS outbox"
               "(id INTEGER PRIMARY KEY, conv TEXT, sent INTEGER DEFAULT 0)")
    return db


def _write(db: sqlite3.Connection, batch: list[list]) -> None:
    """One transaction for a group: ``[kind, conversation or row, result]`` items."""
    db.execute("BEGIN IMMEDIATE")
    for item in batch:
        if item[0] == "turn":
            db.execute("INSERT INTO inbound(conv) VALUES (?)", (item[1],))
            item[2] = db.execute("INSERT INTO outbox(conv) VALUES (?)", (item[1],)).lastrowid
        else:
            db.execute("UPDATE outbox SET sent = 1 WHERE id = ?", (item[1],))
    db.execute("COMMIT")


def run_threads(redis_url: str, api: str, db_path: str, concurrency: int,
                use_httpclient: bool) -> int:
    from bot.group_commit import GroupCommit
    from bot.keepalive_http import KeepAliveHttp
    from flows.redis_client import make_redis

    db = open_database(db_path)
    group: GroupCommit[list] = GroupCommit(lambda batch: _write(db, list(batch)))
    client = make_redis(redis_url)
    take, attempt, finish = (client.register_script(s) for s in (TAKE, ATTEMPT, FINISH))
    kept = KeepAliveHttp(api, connect_timeout=2, read_timeout=5)
    done: list[int] = []

    def worker() -> None:
        plain = http.client.HTTPConnection(*host_and_port(api), timeout=5) \
            if use_httpclient else None
        turns = 0
        while (item := take(keys=["io:mbox", "io:lock:"], args=["token"])) is not None:
            conversation = item.decode()
            attempt(keys=["io:att:"], args=[conversation])
            turn = ["turn", conversation, None]
            group.submit(turn)
            if plain is not None:
                plain.request("POST", REPLY_PATH, body=reply_body(conversation), headers=HEADERS)
                plain.getresponse().read()
            else:
                kept.post(REPLY_PATH, reply_body(conversation), HEADERS)
            group.submit(["sent", turn[2], None])
            finish(keys=["io:lock:"], args=[conversation])
            turns += 1
        if plain is not None:
            plain.close()
        done.append(turns)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept.close()
    db.close()
    return sum(done)


class LoopGroup:
    """The writes submitted during one pass of the loop share one transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db, self._queue, self._scheduled = db, [], False

    def submit(self, item: list) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((item, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._queue = self._queue, []
        _write(self._db, [item for item, _ in batch])
        for _, future in batch:
            future.set_result(None)


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                body: bytes) -> None:
    from benchmarks.loadgen import read_response
    from bot.http_exchange import encode_request

    writer.write(encode_request("POST", host, REPLY_PATH, HEADERS, body))
    status, reusable = await read_response(reader)
    if status != 200 or not reusable:
        raise RuntimeError(f"the fake API answered {status} (reusable: {reusable})")


async def run_loop(redis_url: str, api: str, db_path: str, concurrency: int) -> int:
    db = open_database(db_path)
    group = LoopGroup(db)
    hostport = api.removeprefix("http://")
    host, port = host_and_port(api)

    async def worker() -> int:
        client = aredis.Redis.from_url(redis_url, single_connection_client=True,
                                       socket_timeout=5)
        take, attempt, finish = (client.register_script(s) for s in (TAKE, ATTEMPT, FINISH))
        reader, writer = await asyncio.open_connection(host, port)
        turns = 0
        while (item := await take(keys=["io:mbox", "io:lock:"], args=["token"])) is not None:
            conversation = item.decode()
            await attempt(keys=["io:att:"], args=[conversation])
            turn = ["turn", conversation, None]
            await group.submit(turn)
            await asyncio.wait_for(_post(reader, writer, hostport, reply_body(conversation)), 5)
            await group.submit(["sent", turn[2], None])
            await finish(keys=["io:lock:"], args=[conversation])
            turns += 1
        writer.close()
        await client.aclose()
        return turns

    counts = await asyncio.gather(*(worker() for _ in range(concurrency)))
    db.close()
    return sum(counts)


def run_mode(mode: str, redis_url: str, api: str, db_path: str, turns: int,
             concurrency: int) -> dict:
    """Queue ``turns`` conversations and drive them all with ``mode``; this process's
    CPU per turn."""
    seed = redis.Redis.from_url(redis_url)
    seed.delete("io:mbox")
    seed.rpush("io:mbox", *[f"c{n}" for n in range(turns)])
    cpu, wall = time.process_time(), time.perf_counter()
    if mode == "loop":
        handled = asyncio.run(run_loop(redis_url, api, db_path, concurrency))
    else:
        handled = run_threads(redis_url, api, db_path, concurrency,
                              use_httpclient=mode == "threads-httpclient")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    db = sqlite3.connect(db_path)
    written = db.execute("SELECT COUNT(*) FROM inbound").fetchone()[0]
    sent = db.execute("SELECT COUNT(*) FROM outbox WHERE sent = 1").fetchone()[0]
    db.close()
    return {"mode": mode, "turns": handled, "concurrency": concurrency,
            "cpu_us_per_turn": round(cpu / handled * 1e6, 1),
            "turns_per_s": round(handled / wall), "written": written, "sent": sent}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--run", choices=MODES, help=argparse.SUPPRESS)  # one child's mode
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_mode(args.run, args.redis_url, args.api, args.db, args.turns,
                                  args.concurrency)))
        return 0
    from benchmarks.infra import ROOT, start_infra
    from benchmarks.procs import Processes

    results = []
    with tempfile.TemporaryDirectory(prefix="chatcart-io-shape-") as tmp:
        work = Path(tmp)
        (work / "logs").mkdir()
        with Processes(work / "logs") as procs:
            infra = start_infra(procs, work, max_seconds=1800)
            for rep in range(args.reps):
                for mode in MODES:
                    infra.fake.reset()
                    child = subprocess.run(
                        [sys.executable, "-m", "benchmarks.io_shape", "--run", mode,
                         "--turns", str(args.turns), "--concurrency", str(args.concurrency),
                         "--redis-url", infra.redis_url, "--api", infra.fake_url,
                         "--db", str(work / f"{mode}-{rep}.sqlite3")],
                        cwd=ROOT, env=infra.base_env, capture_output=True, text=True,
                        timeout=600, check=True)
                    result = json.loads(child.stdout)
                    result["replies_received"] = infra.fake.stats()["reply"]
                    print(json.dumps(result), flush=True)
                    results.append(result)
    whole = all(r["turns"] == r["replies_received"] == r["written"] == r["sent"] == args.turns
                for r in results)
    return 0 if whole else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""What every measurement shares: a private Redis and the fake LINE API, on loopback."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import redis

from benchmarks.contenders import ROOT
from benchmarks.fake_line import FakeLineClient
from benchmarks.procs import Proc, Processes, free_port, wait_serving, wait_until
from web.local_redis import find_redis_server


@dataclass
class Infra:
    procs: Processes
    work: Path
    redis_url: str
    redis: redis.Redis
    fake_url: str
    fake: FakeLineClient
    base_env: dict[str, str]
    redis_proc: Proc
    fake_proc: Proc
    extras: dict = field(default_factory=dict)

    def database_url(self, name: str) -> str:
        return f"sqlite:///{self.work / name}.sqlite3"

    def flush(self) -> None:
        self.redis.flushall()


def start_infra(procs: Processes, work: Path, *, max_seconds: float) -> Infra:
    """Redis as chatcart runs it (AOF, fsync every second) and the fake platform."""
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("LINE_", "MESSENGER_", "REDIS_URL", "DATABASE_URL",
                                     "GRAPH_API", "CHATCART_"))}
    base_env["PYTHONPATH"] = str(ROOT)
    redis_port = free_port()
    data = work / "redis"
    data.mkdir()
    server = procs.start("redis", [
        find_redis_server(), "--bind", "127.0.0.1", "--port", str(redis_port),
        "--dir", str(data), "--appendonly", "yes", "--appendfsync", "everysec",
        "--save", "", "--protected-mode", "yes", "--daemonize", "no"], base_env)
    wait_serving(server, redis_port)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    client = redis.Redis.from_url(redis_url, socket_timeout=30)
    wait_until(client.ping, 10, "redis")
    fake_port = free_port()
    fake = procs.start("fake-line", [sys.executable, "-m", "benchmarks.fake_line",
                                     "--port", str(fake_port), "--max-seconds",
                                     str(int(max_seconds))], base_env, cwd=str(ROOT))
    wait_serving(fake, fake_port)
    fake_url = f"http://127.0.0.1:{fake_port}"
    return Infra(procs, work, redis_url, client, fake_url, FakeLineClient(fake_url), base_env,
                 server, fake)

"""A private redis-server for one-command local runs (when REDIS_URL is unset).

It listens on 127.0.0.1 only, keeps an append-only file under ``var/redis`` so a
second run finds the same data, and is stopped when ``chatcart run`` exits.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

INSTALL_HINT = "sudo apt-get update && sudo apt-get install -y redis-server"


class RedisUnavailable(RuntimeError):
    pass


def find_redis_server() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "redis-server"], check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        if shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server"):
            return shutil.which("redis-server") or "/usr/bin/redis-server"
    raise RedisUnavailable(f"redis-server is not installed; install it with: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalRedis:
    process: subprocess.Popen
    url: str

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def _stop_leftover(pidfile: Path, wait_seconds: float = 10) -> None:
    """Stop a redis-server a killed earlier run left on the same data directory:
    two servers appending to one AOF would corrupt it."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"redis-server" not in cmdline:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)


def start_local_redis(var_dir: Path, *, port: int | None = None,
                      wait_seconds: float = 10) -> LocalRedis:
    binary = find_redis_server()
    data_dir = (var_dir / "redis").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    pidfile = data_dir / "redis.pid"
    _stop_leftover(pidfile)
    # Its own session: Ctrl-C at the terminal reaches chatcart, which stops the
    # workers first and Redis last, instead of Redis vanishing under them.
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
         "--appendonly", "yes", "--save", "", "--protected-mode", "yes",
         "--daemonize", "no", "--loglevel", "warning", "--pidfile", str(pidfile),
         "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RedisUnavailable(
                f"redis-server exited with {process.returncode}; see {data_dir}/redis.log"
            )
        try:
            if client.ping():
                return LocalRedis(process, url)
        except redis.ConnectionError:
            time.sleep(0.05)
    LocalRedis(process, url).stop()
    raise RedisUnavailable(f"redis-server did not answer within {wait_seconds} s")

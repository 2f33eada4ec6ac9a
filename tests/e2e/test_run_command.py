"""`chatcart run` as a person runs it: a private Redis, migrations, serving, and a
clean stop on Ctrl-C that leaves nothing running; a second run reuses the data."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None
                                and not os.path.exists("/usr/bin/redis-server"),
                                reason="redis-server not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chatcart(workdir: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["CHATCART_CONFIG"] = str(REPO / "config.yaml")
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120, **kw)


def start_run(workdir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["CHATCART_CONFIG"] = str(REPO / "config.yaml")
    return subprocess.Popen([sys.executable, "-m", "web.cli", "run", "--port", str(port)],
                            cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"chatcart run exited: {proc.stdout.read()}")
        try:
            if requests.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError("chatcart run did not become ready")


def redis_children(proc: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(proc.pid), "redis-server"],
                         capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("chatcart run did not stop on Ctrl-C") from None
    return out


def test_run_serves_then_stops_everything_and_reuses_data(tmp_path):
    assert chatcart(tmp_path, "migrate").returncode == 0
    seeded = chatcart(tmp_path, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    port = free_port()
    proc = start_run(tmp_path, port)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        children = redis_children(proc)
        assert len(children) == 1, "a private redis-server should be running"
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert not alive(children[0])
    assert (tmp_path / "var" / "redis" / "appendonlydir").is_dir()

    listing = chatcart(tmp_path, "catalog", "list", "--json")
    assert listing.returncode == 0
    assert '"sku": "TEA-OOLONG"' in listing.stdout

    proc = start_run(tmp_path, port)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
    finally:
        stop(proc)
    assert chatcart(tmp_path, "seed-demo").stdout.strip().endswith("0 new customers")


def test_order_show_for_unknown_number_says_so(tmp_path):
    chatcart(tmp_path, "migrate")
    result = chatcart(tmp_path, "order", "show", "999999999")
    assert result.returncode == 1
    assert "找不到訂單" in result.stderr


def test_serve_runs_the_production_server_and_stops_on_sigterm(tmp_path, redis_url):
    assert chatcart(tmp_path, "migrate").returncode == 0
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CHATCART_CONFIG=str(REPO / "config.yaml"), REDIS_URL=redis_url)
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port),
                             "--workers", "1"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {
            "status": "ok"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0


def test_serve_without_redis_url_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["CHATCART_CONFIG"] = str(REPO / "config.yaml")
    result = subprocess.run([sys.executable, "-m", "web.cli", "serve", "--port",
                             str(free_port())], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "REDIS_URL" in result.stdout + result.stderr


def test_a_redis_left_by_a_killed_run_is_stopped_before_a_new_one_starts(tmp_path):
    from web.local_redis import start_local_redis

    first = start_local_redis(tmp_path / "var")
    pid = first.process.pid
    try:
        # the parent "dies" without stopping it: a new start must not run beside it
        second = start_local_redis(tmp_path / "var")
        try:
            assert first.process.wait(15) is not None
            assert second.process.poll() is None
        finally:
            second.stop()
    finally:
        first.stop()
    assert not alive(pid)

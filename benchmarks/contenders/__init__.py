"""The three contenders and how each is started on loopback.

Every contender answers LINE webhooks at ``/webhooks/line`` behind gunicorn with
the same worker settings (``GUNICORN``: the settings ``chatcart serve`` uses); the
peer is also run with sync workers, the other common deployment of a Flask bot.
chatcart runs unmodified in its production shape: ``chatcart serve`` for HTTP and
separate ``chatcart worker`` processes, real LINE mode pointed at the fake API.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import payloads
from benchmarks.procs import Proc, Processes, group_usage, wait_log, wait_serving

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
WEBHOOK_PATH = "/webhooks/line"
GUNICORN = {"workers": 2, "threads": 4, "timeout": 30}


@dataclass(frozen=True)
class ChatcartShape:
    """How many web and worker processes chatcart runs with."""

    web_workers: int = GUNICORN["workers"]
    worker_processes: int = 2
    worker_threads: int = 32  # chatcart worker's default


@dataclass
class Running:
    name: str
    port: int
    procs: list[Proc] = field(default_factory=list)

    def usage(self, *extra: Proc) -> tuple[dict[str, float], dict[str, float]]:
        """CPU seconds and context switches so far of each of this contender's
        processes (and ``extra``), by process name."""
        used = {p.name: group_usage(p.process.pid) for p in (*self.procs, *extra)}
        return ({name: u.cpu_seconds for name, u in used.items()},
                {name: u.switches for name, u in used.items()})

    def stop(self, owner: Processes) -> None:
        for proc in reversed(self.procs):
            owner.stop(proc)


def gunicorn_argv(app: str, port: int, worker_class: str) -> list[str]:
    argv = [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}",
            "--workers", str(GUNICORN["workers"]), "--timeout", str(GUNICORN["timeout"]),
            "--worker-class", worker_class]
    if worker_class == "gthread":
        argv += ["--threads", str(GUNICORN["threads"])]
    return [*argv, app]


def contender_env(base: dict[str, str], fake_url: str) -> dict[str, str]:
    return {**base, "BENCH_LINE_SECRET": payloads.CHANNEL_SECRET,
            "BENCH_LINE_TOKEN": payloads.ACCESS_TOKEN, "BENCH_LINE_API": fake_url}


def start_flask(procs: Processes, name: str, module: str, port: int, worker_class: str,
                env: dict[str, str]) -> Running:
    """The floor (``floor_app``) or the peer (``peer_app``) under gunicorn."""
    proc = procs.start(name, gunicorn_argv(f"benchmarks.contenders.{module}:app", port,
                                           worker_class), env, cwd=str(ROOT))
    wait_serving(proc, port, http_path=WEBHOOK_PATH)
    return Running(name, port, [proc])


def chatcart_env(base: dict[str, str], *, redis_url: str, database_url: str,
                 fake_url: str) -> dict[str, str]:
    """Real LINE mode against the fake platform (see web/environment.py)."""
    return {**base, "REDIS_URL": redis_url, "DATABASE_URL": database_url,
            "LINE_CHANNEL_SECRET": payloads.CHANNEL_SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": payloads.ACCESS_TOKEN,
            "LINE_API_BASE": fake_url, "LINE_DATA_API_BASE": fake_url,
            "CHATCART_SECRET_KEY": "bench-secret-key-not-for-production"}


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "chatcart"), "migrate"], env=env, cwd=str(ROOT),
                   check=True, capture_output=True, timeout=120)


def start_chatcart(procs: Processes, port: int, env: dict[str, str], shape: ChatcartShape,
                   *, workers: bool = True, probe_dir: Path | None = None,
                   name: str = "chatcart") -> Running:
    """``chatcart serve`` plus ``shape.worker_processes`` x ``chatcart worker``.

    With ``probe_dir`` both run under ``benchmarks.redis_probe``, which counts
    Redis round trips and otherwise runs the same command line.
    """
    def command(*args: str) -> list[str]:
        if probe_dir is None:
            return [str(VENV_BIN / "chatcart"), *args]
        return [sys.executable, "-m", "benchmarks.redis_probe", str(probe_dir), *args]

    web = procs.start(f"{name}-web", command("serve", "--host", "127.0.0.1", "--port", str(port),
                                             "--workers", str(shape.web_workers)),
                      env, cwd=str(ROOT))
    running = Running(name, port, [web])
    wait_serving(web, port, timeout=60, http_path=WEBHOOK_PATH)
    if workers:
        running.procs += start_workers(procs, env, shape, command, name)
    return running


def start_workers(procs: Processes, env: dict[str, str], shape: ChatcartShape,
                  command, name: str) -> list[Proc]:  # noqa: ANN001
    started = [procs.start(f"{name}-worker{n}",
                           command("worker", "--threads", str(shape.worker_threads)),
                           env, cwd=str(ROOT))
               for n in range(shape.worker_processes)]
    for proc in started:
        wait_log(proc, "chatcart worker running")
    return started

"""Start and stop the processes a benchmark needs, each in its own process group.

Everything started through ``Processes`` is stopped when its ``with`` block ends,
whatever happened inside: SIGTERM to the whole group, then SIGKILL after a grace
period, so a gunicorn master and its workers go together.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.error import HTTPError
from urllib.request import urlopen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):  # noqa: ANN001, ANN201
    """Poll ``predicate`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def http_answers(url: str) -> bool:
    """True once the server answers with any HTTP status (the app is loaded)."""
    try:
        with urlopen(url, timeout=2):  # noqa: S310 - loopback only
            return True
    except HTTPError:
        return True
    except OSError:
        return False


@dataclass
class Proc:
    name: str
    process: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the group, SIGKILL to it after ``grace``. A leader that already
        exited is left alone: its group id may belong to someone else by now (gunicorn
        workers leave when their master dies; the other processes have no children)."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(grace)


class Processes:
    """Context manager owning every process a benchmark started."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._procs: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], *,
              cwd: str | None = None) -> Proc:
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        finally:
            log.close()
        proc = Proc(name, process, log_path)
        self._procs.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self._procs:
            self._procs.remove(proc)

    def stop_all(self) -> None:
        while self._procs:
            self._procs.pop().stop()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_all()


def wait_serving(proc: Proc, port: int, timeout: float = 30.0, *,
                 http_path: str | None = None) -> None:
    """Wait until ``proc`` listens on ``port`` (and answers HTTP on ``http_path``);
    fail with its log if it died."""
    def ready() -> bool:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.process.returncode}):\n"
                               f"{proc.log_tail()}")
        if not port_open(port):
            return False
        return http_path is None or http_answers(f"http://127.0.0.1:{port}{http_path}")

    wait_until(ready, timeout, f"{proc.name} on port {port}")


def wait_log(proc: Proc, text: str, timeout: float = 60.0) -> None:
    """Wait until ``text`` appears in ``proc``'s log; fail with the log if it died."""
    def ready() -> bool:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.process.returncode}):\n"
                               f"{proc.log_tail()}")
        try:
            return text in proc.log_path.read_text(errors="replace")
        except OSError:
            return False

    wait_until(ready, timeout, f"{proc.name} to log {text!r}", interval=0.1)


_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """What a process group has used so far."""

    cpu_seconds: float  # user + system, every live process
    switches: int  # context switches, voluntary and not, every thread of them


def group_usage(pgid: int) -> Usage:
    """CPU seconds and context switches so far of every live process in process
    group ``pgid``, from one scan of ``/proc``.

    The kernel counts switches per thread (``/proc/<pid>/task/<tid>/status``), so a
    thread that has ended takes its count with it; the processes measured here keep
    their threads for their whole life (gunicorn's, the workers' pools, Redis).
    """
    ticks = switches = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) != pgid:  # field 5 of stat: the process group
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        for status in stat.parent.glob("task/*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            switches += sum(int(line.split()[1]) for line in text.splitlines()
                            if line.startswith(("voluntary_ctxt_switches:",
                                                "nonvoluntary_ctxt_switches:")))
    return Usage(ticks / _TICKS, switches)

"""The machine and software the figures were taken on, for the JSON and the doc."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from benchmarks.contenders import ROOT


def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (
        done.stdout or done.stderr) else "unavailable"


def describe() -> dict:
    from importlib.metadata import version

    return {
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory": _first("/proc/meminfo", "MemTotal"),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "redis_server": _output(["redis-server", "--version"]),
        "wrk": _output(["wrk", "--version"]),
        "packages": {name: version(name) for name in (
            "flask", "gunicorn", "line-bot-sdk", "redis", "hiredis", "SQLAlchemy")},
        "commit": _output(["git", "rev-parse", "--short", "HEAD"]),
    }

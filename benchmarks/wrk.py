"""Drives ingest load with wrk (Debian's package) and reads its JSON summary."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("webhooks.lua")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def run(port: int, path: str, bodies_file: Path, *, seconds: float, connections: int = 16,
        threads: int = 2) -> WrkResult:
    """``connections`` keep-alive connections for ``seconds``; bounded by a kill timeout."""
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
            "--timeout", "5s", "--latency", "-s", str(SCRIPT), f"http://127.0.0.1:{port}",
            "--", str(bodies_file), path, str(threads)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                          check=True)
    line = next(ln for ln in reversed(done.stdout.splitlines()) if ln.startswith("{"))
    data = json.loads(line)
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors",
                                   "status_errors", "timeouts"))
    return WrkResult(requests=data["requests"], errors=errors,
                     seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
                     p99_ms=data["p99_us"] / 1000, mean_ms=data["mean_us"] / 1000)

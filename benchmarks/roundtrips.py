"""Redis round trips per inbound event on chatcart's hot path, counted.

chatcart runs under ``benchmarks.redis_probe`` (client instrumentation: one count
per command sent alone, one per pipeline). After a warm-up round the counters are
read, one end-to-end run of ``rounds`` x 256 turns is made, the counters are read
again, and the difference is divided by the turns. Everything the processes did
in that window counts, idle polls of the workers included, so the figure is
amortised over a realistic burst.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import e2e
from benchmarks.contenders import Running
from benchmarks.infra import Infra
from benchmarks.redis_probe import diff_counts, read_counts

ROLES = {"serve": "webhook (chatcart serve)", "worker": "worker + sender (chatcart worker)"}


def _per_event(counts: dict, turns: int) -> dict:
    return {name: round(n / turns, 3) for name, n in sorted(
        counts.items(), key=lambda item: -item[1])}


def measure(infra: Infra, running: Running, probe_dir: Path,
            settings: e2e.E2ESettings) -> dict:
    infra.fake.set_delay(0)
    e2e.turns(infra, running, "rtw", settings, 1)
    time.sleep(0.5)
    before = read_counts(probe_dir)
    run = e2e.turns(infra, running, "rtx", settings, settings.rounds)
    time.sleep(0.5)
    delta = diff_counts(read_counts(probe_dir), before)
    turns = run["turns"]
    roles = {}
    for role, counts in delta.items():
        roles[ROLES.get(role, role)] = {
            "roundtrips_per_event": counts["roundtrips"] / turns,
            "commands_per_event": _per_event(counts["commands"], turns),
            "pipelined_commands_per_event": _per_event(counts["in_pipeline"], turns),
        }
    total = sum(r["roundtrips_per_event"] for r in roles.values())
    return {"roundtrips_per_event": total, "by_process": roles, "turns": turns,
            "source": "redis-py client instrumentation (benchmarks/redis_probe.py)"}

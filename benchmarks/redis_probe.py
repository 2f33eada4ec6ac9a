"""Counts Redis round trips made by an unmodified chatcart process.

``python -m benchmarks.redis_probe DUMP_DIR serve|worker ARGS...`` wraps the redis-py
client classes, then runs the ``chatcart`` command line exactly as the console
script does. Every command sent alone is one round trip; a pipeline, or commands
sent together on a thread's connection (``ThreadConnections.send_together``), is
one round trip whatever it holds (its commands are counted too, under
``in_pipeline``). Each process (gunicorn forks its workers) writes its counts to
``DUMP_DIR/<pid>.json`` every 100 ms, so the runner can diff two snapshots around a
measurement.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import redis.client

_lock = threading.Lock()
_state: dict = {"pid": None, "dir": None, "role": "", "roundtrips": 0,
                "commands": Counter(), "in_pipeline": Counter()}


def _writer(pid: int) -> None:
    path = Path(_state["dir"]) / f"{pid}.json"
    while os.getpid() == pid:
        with _lock:
            data = {"pid": pid, "role": _state["role"], "roundtrips": _state["roundtrips"],
                    "commands": dict(_state["commands"]),
                    "in_pipeline": dict(_state["in_pipeline"])}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)
        time.sleep(0.1)


def _count(names: list[str], pipeline: bool) -> None:
    with _lock:
        if _state["pid"] != os.getpid():  # first call in this process (or after a fork)
            _state.update(pid=os.getpid(), roundtrips=0, commands=Counter(),
                          in_pipeline=Counter())
            threading.Thread(target=_writer, args=(os.getpid(),), daemon=True).start()
        _state["roundtrips"] += 1
        target = _state["in_pipeline"] if pipeline else _state["commands"]
        for name in names:
            target[str(name).upper()] += 1


def install(dump_dir: str, role: str) -> None:
    _state["dir"], _state["role"] = dump_dir, role
    plain = redis.client.Redis.execute_command
    batched = redis.client.Pipeline.execute

    def execute_command(self, *args, **options):  # noqa: ANN001, ANN002, ANN003, ANN202
        _count([args[0]], pipeline=False)
        return plain(self, *args, **options)

    def execute(self, raise_on_error: bool = True):  # noqa: ANN001, ANN202
        if self.command_stack:
            _count([args[0] for args, _ in self.command_stack], pipeline=True)
        return batched(self, raise_on_error)

    redis.client.Redis.execute_command = execute_command
    redis.client.Pipeline.execute = execute

    # Commands sent together on a thread's own connection (the worker's blocking read
    # with its take) are one round trip, like a pipeline.
    from flows.redis_client import ThreadConnections

    together = ThreadConnections.send_together

    def send_together(self, *commands):  # noqa: ANN001, ANN002, ANN202
        _count([command[0] for command in commands], pipeline=True)
        return together(self, *commands)

    ThreadConnections.send_together = send_together  # type: ignore[method-assign]


def read_counts(dump_dir: Path) -> dict[str, dict]:
    """Latest counts summed per role: {role: {roundtrips, commands, in_pipeline}}."""
    totals: dict[str, dict] = {}
    for path in dump_dir.glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        role = totals.setdefault(data["role"], {"roundtrips": 0, "commands": Counter(),
                                                "in_pipeline": Counter()})
        role["roundtrips"] += data["roundtrips"]
        role["commands"].update(data["commands"])
        role["in_pipeline"].update(data["in_pipeline"])
    return totals


def diff_counts(after: dict[str, dict], before: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for role, now in after.items():
        then = before.get(role, {"roundtrips": 0, "commands": Counter(),
                                 "in_pipeline": Counter()})
        out[role] = {"roundtrips": now["roundtrips"] - then["roundtrips"],
                     "commands": dict(now["commands"] - then["commands"]),
                     "in_pipeline": dict(now["in_pipeline"] - then["in_pipeline"])}
    return out


def main() -> int:
    dump_dir, argv = sys.argv[1], sys.argv[2:]
    install(dump_dir, argv[0] if argv else "")
    from web.cli import main as chatcart

    return chatcart(argv)


if __name__ == "__main__":
    sys.exit(main())

"""Profile chatcart's hot paths under load with py-spy (``pip install -e '.[bench]'``).

``python -m benchmarks.profile [--target worker|web|ingest] [--seconds 15]`` starts
the same stack as the end-to-end figure and keeps the turns flowing (``ingest``:
``chatcart serve`` alone under wrk, as in the ingest figure), samples one process
of the target with ``py-spy record --gil`` (only the thread holding the GIL, i.e.
CPU time) and prints the functions with the largest cumulative and own shares.
The raw collapsed stacks stay in the work directory for a flame graph.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks import e2e, payloads, wrk
from benchmarks.contenders import (
    WEBHOOK_PATH,
    ChatcartShape,
    chatcart_env,
    migrate,
    start_chatcart,
)
from benchmarks.infra import start_infra
from benchmarks.procs import Processes, free_port

_LINE = re.compile(r":\d+\)$")
_ENTRY_END = re.compile(r"\) (\d+)$")


def _stacks(text: str) -> list[tuple[str, int]]:
    """(stack, samples) per entry of py-spy's collapsed output. An entry ends with
    its last frame's ``(file:line)`` and its sample count; a frame name may hold
    newlines (a redis-py ``Script`` is named after its Lua source), so lines are
    joined until one ends that way."""
    entries: list[tuple[str, int]] = []
    pending = ""
    for line in text.splitlines():
        pending += line
        end = _ENTRY_END.search(pending)
        if end:
            entries.append((pending[:end.start() + 1], int(end.group(1))))
            pending = ""
        else:
            pending += " "
    return entries


def summarize(raw: Path, top: int = 40) -> str:
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    total = 0
    for stack, n in _stacks(raw.read_text()):
        total += n
        frames = [_LINE.sub(")", f.replace(sys.prefix + "/lib/python3.11/site-packages/", ""))
                  for f in stack.split(";")]
        for frame in set(frames):
            cumulative[frame] += n
        own[frames[-1]] += n
    lines = [f"{total} samples", "-- cumulative"]
    lines += [f"{100 * n / total:5.1f}% {f}" for f, n in cumulative.most_common(top)]
    lines += ["-- own"]
    lines += [f"{100 * n / total:5.1f}% {f}" for f, n in own.most_common(top // 2)]
    return "\n".join(lines)


def _keep_busy(infra, running, stop: threading.Event) -> None:  # noqa: ANN001
    settings = e2e.E2ESettings(rounds=2)
    if infra.extras.get("ingest_seconds"):
        bodies = infra.work / "profile-bodies.tsv"
        payloads.write_wrk_file(str(bodies), payloads.round_robin("prof", 100_000))
        wrk.run(running.port, WEBHOOK_PATH, bodies, seconds=infra.extras["ingest_seconds"])
        return
    rep = 0
    while not stop.is_set():
        e2e.turns(infra, running, f"prof{rep}", settings, settings.rounds)
        rep += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--target", choices=("worker", "web", "ingest"), default="worker")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--wall", action="store_true",
                        help="sample every thread, waiting ones too (where the time goes, "
                             "not the CPU)")
    parser.add_argument("--worker-processes", type=int, default=ChatcartShape.worker_processes)
    parser.add_argument("--worker-threads", type=int, default=ChatcartShape.worker_threads)
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    work = Path(tempfile.mkdtemp(prefix="chatcart-profile-"))
    (work / "logs").mkdir()
    raw = work / f"{args.target}.txt"
    stop = threading.Event()
    with Processes(work / "logs") as procs:
        infra = start_infra(procs, work, max_seconds=args.seconds + 300)
        env = chatcart_env(infra.base_env, redis_url=infra.redis_url,
                           database_url=infra.database_url("profile"), fake_url=infra.fake_url)
        migrate(env)
        shape = ChatcartShape(worker_processes=args.worker_processes,
                              worker_threads=args.worker_threads)
        ingest_only = args.target == "ingest"
        running = start_chatcart(procs, free_port(), env, shape, workers=not ingest_only)
        if ingest_only:
            infra.extras["ingest_seconds"] = args.seconds + 3
        else:
            e2e.turns(infra, running, "profw", e2e.E2ESettings(), 1)
        if args.target == "worker":
            pid = running.procs[1].process.pid
        else:
            children = subprocess.run(["pgrep", "-P", str(running.procs[0].process.pid)],
                                      capture_output=True, text=True, check=True)
            pid = int(children.stdout.split()[0])
        load = threading.Thread(target=_keep_busy, args=(infra, running, stop))
        load.start()
        try:
            time.sleep(1)
            subprocess.run([py_spy, "record", "--pid", str(pid), "--duration",
                            str(args.seconds), "--rate", str(args.rate),
                            "--idle" if args.wall else "--gil", "--nonblocking",
                            "--format", "raw", "--output", str(raw)],
                           check=True, capture_output=True, timeout=args.seconds + 60)
        finally:
            stop.set()
            load.join(180)
    print(summarize(raw))
    print(f"\nraw stacks: {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

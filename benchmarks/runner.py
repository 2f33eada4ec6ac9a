"""``python -m benchmarks``: every figure of docs/performance.md in one invocation.

Starts a private Redis and the fake LINE API, then each contender in turn, all on
127.0.0.1; measures; prints medians (min-max) with the ratios between contenders
measured in this same invocation; writes the results as JSON. Everything started
is stopped on the way out, whatever happened.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks import (
    e2e,
    ingest,
    loadgen,
    machine,
    memory,
    payloads,
    pricing_quote,
    roundtrips,
    summary,
)
from benchmarks.contenders import (
    ChatcartShape,
    Running,
    chatcart_env,
    contender_env,
    migrate,
    start_chatcart,
    start_flask,
)
from benchmarks.infra import Infra, start_infra
from benchmarks.procs import Processes, free_port

PHASES = ("ingest", "e2e", "roundtrips", "memory", "pricing")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def _chatcart(infra: Infra, name: str, shape: ChatcartShape, *, workers: bool = True,
              probe_dir: Path | None = None):  # noqa: ANN202
    infra.flush()
    env = chatcart_env(infra.base_env, redis_url=infra.redis_url,
                       database_url=infra.database_url(name), fake_url=infra.fake_url)
    migrate(env)
    return start_chatcart(infra.procs, free_port(), env, shape, workers=workers,
                          probe_dir=probe_dir, name=name)


def phase_ingest(infra: Infra, settings: ingest.IngestSettings, shape: ChatcartShape,
                 only: set[str]) -> dict:
    env = contender_env(infra.base_env, infra.fake_url)
    infra.fake.set_delay(0)
    contenders: dict[str, Running] = {}
    try:
        for name, module in (("floor", "floor_app"), ("peer", "peer_app")):
            if name in only:
                contenders[name] = start_flask(infra.procs, name, module, free_port(),
                                               "gthread", env)
        if "chatcart" in only:
            contenders["chatcart"] = _chatcart(infra, "chatcart-ingest", shape, workers=False)
        print(f"  ingest: {', '.join(contenders)} in turn (chatcart: serve alone)", flush=True)
        return ingest.measure(infra, contenders, settings)
    finally:
        for running in contenders.values():
            running.stop(infra.procs)


def phase_e2e(infra: Infra, settings: e2e.E2ESettings, shape: ChatcartShape,
              delays: tuple[float, ...], only: set[str]) -> dict:
    out: dict[str, dict] = {}
    hooks = list(payloads.round_robin("cap", 5_000))
    out["generator"] = {"null_server_requests_per_s": loadgen.capacity(hooks, free_port())}
    print(f"  end to end: the Python generator drives "
          f"{out['generator']['null_server_requests_per_s']:,.0f} requests/s "
          f"against a null server", flush=True)
    env = contender_env(infra.base_env, infra.fake_url)
    contenders: dict[str, Running] = {}
    try:
        for name, worker_class in (("peer-sync", "sync"), ("peer-threaded", "gthread")):
            if "peer" in only:
                contenders[name] = start_flask(infra.procs, name, "peer_app", free_port(),
                                               worker_class, env)
        if "chatcart" in only:
            contenders["chatcart"] = _chatcart(infra, "chatcart-e2e", shape)
        print(f"  end to end: {', '.join(contenders)} in turn", flush=True)
        for delay in delays:
            for name, result in e2e.measure(infra, contenders, delay, settings).items():
                out.setdefault(name, {})[f"{delay:g}ms"] = result
    finally:
        for running in contenders.values():
            running.stop(infra.procs)
    return out


def phase_roundtrips(infra: Infra, settings: e2e.E2ESettings, shape: ChatcartShape) -> dict:
    print("  redis round trips: chatcart under the counting probe", flush=True)
    probe_dir = infra.work / "probe"
    probe_dir.mkdir(exist_ok=True)
    infra.fake.set_delay(0)
    running = _chatcart(infra, "chatcart-probe", shape, probe_dir=probe_dir)
    try:
        return roundtrips.measure(infra, running, probe_dir, settings)
    finally:
        running.stop(infra.procs)


def phase_memory(infra: Infra, conversations: int, shape: ChatcartShape) -> dict:
    print(f"  redis memory: chatcart, then scaled to {conversations:,} conversations",
          flush=True)
    infra.fake.set_delay(0)
    running = _chatcart(infra, "chatcart-memory", shape)
    try:
        return memory.measure(infra, running, conversations)
    finally:
        running.stop(infra.procs)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(PHASES),
                        help=f"comma-separated phases out of {', '.join(PHASES)}")
    parser.add_argument("--contenders", default="floor,peer,chatcart",
                        help="comma-separated contenders for ingest and end to end")
    parser.add_argument("--reps", type=int, default=5, help="timed runs per figure (>= 3)")
    parser.add_argument("--ingest-seconds", type=float, default=5.0)
    parser.add_argument("--conversations", type=int, default=100_000,
                        help="conversations for the Redis memory figure")
    parser.add_argument("--worker-processes", type=int, default=ChatcartShape.worker_processes)
    parser.add_argument("--worker-threads", type=int, default=ChatcartShape.worker_threads)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep-temp", action="store_true", help="keep logs and databases")
    args = parser.parse_args(argv)
    args.phases = [p.strip() for p in args.only.split(",") if p.strip()]
    args.contenders = {c.strip() for c in args.contenders.split(",") if c.strip()}
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if args.reps < 3:
        parser.error("--reps must be at least 3")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    shape = ChatcartShape(worker_processes=args.worker_processes,
                          worker_threads=args.worker_threads)
    ingest_settings = ingest.IngestSettings(reps=args.reps, seconds=args.ingest_seconds)
    e2e_settings = e2e.E2ESettings(reps=args.reps)
    work = Path(tempfile.mkdtemp(prefix="chatcart-bench-"))
    (work / "logs").mkdir()
    started = time.monotonic()
    results: dict = {"machine": machine.describe(), "phases": args.phases,
                     "chatcart_shape": asdict(shape),
                     "work_dir": str(work)}
    print(f"chatcart benchmarks; logs in {work / 'logs'}", flush=True)
    try:
        with Processes(work / "logs") as procs:
            infra = start_infra(procs, work, max_seconds=3600)
            if "ingest" in args.phases:
                results["ingest"] = phase_ingest(infra, ingest_settings, shape, args.contenders)
            if "e2e" in args.phases:
                results["e2e"] = phase_e2e(infra, e2e_settings, shape, (0.0, 20.0),
                                             args.contenders)
            if "roundtrips" in args.phases:
                results["roundtrips"] = phase_roundtrips(infra, e2e_settings, shape)
            if "memory" in args.phases:
                results["memory"] = phase_memory(infra, args.conversations, shape)
        if "pricing" in args.phases:
            print("  pricing: one quote, timeit", flush=True)
            results["pricing"] = pricing_quote.run()
        results["seconds"] = time.monotonic() - started
        summary.report(results)
        summary.save(results, args.out)
        print(f"\nresults written to {args.out}", flush=True)
    finally:
        if not args.keep_temp:
            shutil.rmtree(work, ignore_errors=True)
    return 0

"""Ingest: signed webhooks acknowledged per second, and acknowledgement latency.

wrk keeps 16 connections busy for a fixed time; every request is a distinct
webhook (256 users in turn, a new event id each time), so chatcart stores every
one instead of dropping repeats. chatcart runs ``serve`` alone here: its workers
would compete for the same two cores, and the acknowledgement is all the
platform waits for. Redis is flushed before each run so all runs start equal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from benchmarks import loadgen, payloads, wrk
from benchmarks.contenders import WEBHOOK_PATH, Running
from benchmarks.infra import Infra
from benchmarks.report import cpu_per_item, median_by_group, per_item, percentile, spread


@dataclass(frozen=True)
class IngestSettings:
    reps: int = 5
    seconds: float = 5.0
    warmup_seconds: float = 1.0
    concurrency: int = 16
    users: int = 256
    bodies: int = 40_000  # distinct webhooks per run; more than any contender sends


def _tag(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum())[:8]


def _bodies(infra: Infra, batch: str, settings: IngestSettings):  # noqa: ANN202
    path = infra.work / f"bodies-{batch}.tsv"
    payloads.write_wrk_file(str(path), payloads.round_robin(batch, settings.bodies,
                                                            settings.users))
    return path


def _one_run(infra: Infra, running: Running, batch: str, settings: IngestSettings,
             seconds: float) -> dict:
    infra.flush()
    port = running.port
    if wrk.available():
        bodies = _bodies(infra, batch, settings)
        cpu_before, switches_before = running.usage(infra.redis_proc)
        result = wrk.run(port, WEBHOOK_PATH, bodies, seconds=seconds,
                         connections=settings.concurrency)
        cpu_after, switches_after = running.usage(infra.redis_proc)
        run = {"tool": "wrk", "acks_per_s": result.rate, "p50_ms": result.p50_ms,
               "p99_ms": result.p99_ms, "requests": result.requests, "errors": result.errors,
               "repeated_bodies": result.requests > settings.bodies}
    else:
        count = max(2_000, int(settings.bodies * seconds / 10))
        hooks = list(payloads.round_robin(batch, count, settings.users))
        cpu_before, switches_before = running.usage(infra.redis_proc)
        result = loadgen.drive(port, WEBHOOK_PATH, hooks, concurrency=settings.concurrency,
                               timeout=seconds * 4)
        cpu_after, switches_after = running.usage(infra.redis_proc)
        latencies = sorted(result.latencies)
        run = {"tool": "python", "acks_per_s": result.rate,
               "p50_ms": percentile(latencies, 0.50) * 1000,
               "p99_ms": percentile(latencies, 0.99) * 1000,
               "requests": result.sent, "errors": result.errors, "repeated_bodies": False}
    acked = run["requests"] - run["errors"]
    run["cpu_ms_per_ack"] = cpu_per_item(cpu_before, cpu_after, acked)
    run["switches_per_ack"] = per_item(switches_before, switches_after, acked)
    if run["errors"]:
        print(f"    warning: {run['errors']} failed requests", flush=True)
    return run


def measure(infra: Infra, contenders: dict[str, Running], settings: IngestSettings
            ) -> dict[str, dict]:
    """Warm each contender up, then ``settings.reps`` rounds, each of one timed run
    per contender in turn (all of them serving throughout, idle but for their own
    run). The machine's speed drifts over minutes on a shared host; taking the
    contenders' runs in turn puts that drift into every contender's spread instead
    of into the ratio between them."""
    for name, running in contenders.items():
        _one_run(infra, running, f"{_tag(name)}w", settings, settings.warmup_seconds)
    runs: dict[str, list[dict]] = {name: [] for name in contenders}
    for rep in range(settings.reps):
        for name, running in contenders.items():
            run = _one_run(infra, running, f"{_tag(name)}{rep}", settings, settings.seconds)
            print(f"    {name} run {rep + 1}: {run['acks_per_s']:,.0f} acks/s, "
                  f"p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms", flush=True)
            runs[name].append(run)
    return {name: {"acks_per_s": spread([r["acks_per_s"] for r in rs]),
                   "p50_ms": spread([r["p50_ms"] for r in rs]),
                   "p99_ms": spread([r["p99_ms"] for r in rs]),
                   "cpu_ms_per_ack": median_by_group(rs, "cpu_ms_per_ack"),
                   "switches_per_ack": median_by_group(rs, "switches_per_ack"),
                   "runs": rs, "settings": asdict(settings)}
            for name, rs in runs.items()}


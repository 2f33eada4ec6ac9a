"""End to end: dialog turns per second, from the signed webhook to the reply the
fake platform received.

One run sends ``rounds`` x 256 webhooks (each of the 256 users writes once per
round) over 16 connections as fast as the contender acknowledges them, then waits
for every reply. Turns per second = webhooks / (last reply - first send); turn
latency = reply arrival - webhook send, per reply token. A warm-up round comes
first, so every measured turn is a returning customer (chatcart looks a new
customer's profile up once). The generator is the Python one: wrk cannot send a
fixed count, and ``loadgen.capacity`` shows the generator's own ceiling.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from benchmarks import loadgen, payloads
from benchmarks.contenders import WEBHOOK_PATH, Running
from benchmarks.infra import Infra
from benchmarks.procs import wait_until
from benchmarks.report import cpu_per_item, median_by_group, per_item, percentile, spread


@dataclass(frozen=True)
class E2ESettings:
    reps: int = 5
    rounds: int = 2
    users: int = 256
    concurrency: int = 16
    reply_wait_seconds: float = 120.0


def turns(infra: Infra, running: Running, batch: str, settings: E2ESettings,
          rounds: int) -> dict:
    infra.fake.reset()
    count = rounds * settings.users
    hooks = list(payloads.round_robin(batch, count, settings.users))
    cpu_before, switches_before = running.usage(infra.redis_proc, infra.fake_proc)
    sent = loadgen.drive(running.port, WEBHOOK_PATH, hooks, concurrency=settings.concurrency,
                         timeout=settings.reply_wait_seconds)
    expected = sent.ok
    wait_until(lambda: infra.fake.stats()["reply"] >= expected, settings.reply_wait_seconds,
               f"{expected} replies", interval=0.02)
    cpu_after, switches_after = running.usage(infra.redis_proc, infra.fake_proc)
    arrivals = infra.fake.arrivals()
    latencies = sorted(arrivals[t] - sent.sent_at[t] for t in arrivals if t in sent.sent_at)
    last = max(arrivals.values())
    stats = infra.fake.stats()
    return {"turns_per_s": expected / (last - sent.started),
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "acks_per_s": sent.rate, "ack_p99_ms": percentile(sorted(sent.latencies),
                                                              0.99) * 1000,
            "turns": expected, "errors": sent.errors, "pushes": stats["push"],
            "profile_lookups": stats["profile"],
            "cpu_ms_per_turn": cpu_per_item(cpu_before, cpu_after, expected),
            "switches_per_turn": per_item(switches_before, switches_after, expected)}


def measure(infra: Infra, contenders: dict[str, Running], delay_ms: float,
            settings: E2ESettings, *, warm: bool = True) -> dict[str, dict]:
    """A warm-up round per contender (unless ``warm`` is False), then
    ``settings.reps`` rounds of one timed run per contender in turn, all of them
    running throughout (see ``benchmarks.ingest.measure`` for why in turn)."""
    infra.fake.set_delay(delay_ms)
    tags = {name: "".join(ch for ch in name if ch.isalnum())[:6] + f"{int(delay_ms)}"
            for name in contenders}
    if warm:
        for name, running in contenders.items():
            turns(infra, running, f"{tags[name]}w", settings, 1)
    runs: dict[str, list[dict]] = {name: [] for name in contenders}
    for rep in range(settings.reps):
        for name, running in contenders.items():
            run = turns(infra, running, f"{tags[name]}x{rep}", settings, settings.rounds)
            print(f"    {name} @ {delay_ms:g} ms run {rep + 1}: "
                  f"{run['turns_per_s']:,.0f} turns/s, turn p50 {run['p50_ms']:.1f} ms, "
                  f"p99 {run['p99_ms']:.1f} ms", flush=True)
            runs[name].append(run)
    return {name: {"turns_per_s": spread([r["turns_per_s"] for r in rs]),
                   "p50_ms": spread([r["p50_ms"] for r in rs]),
                   "p99_ms": spread([r["p99_ms"] for r in rs]),
                   "cpu_ms_per_turn": median_by_group(rs, "cpu_ms_per_turn"),
                   "switches_per_turn": median_by_group(rs, "switches_per_turn"),
                   "delay_ms": delay_ms, "runs": rs, "settings": asdict(settings)}
            for name, rs in runs.items()}

"""One worker thread's cost per dialog turn: CPU, SQL transactions, Redis round trips.

The end-to-end figure is a rate under load on two shared cores, so it moves with
whatever else the machine does. This measures what a turn costs instead, in one
thread and without contention: webhooks are stored through the real ingest path,
then one ``InboxWorker`` drains them with the production dispatcher and router,
replying to the fake LINE API (a separate process, so its CPU is not counted).
Reported per turn: CPU seconds of this process (``time.process_time``), Redis round
trips (a command alone is one, a pipeline is one), and SQL transactions begun.

    python -m benchmarks.worker_micro [--turns 512] [--users 256] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis.client
from sqlalchemy import event

from benchmarks import payloads
from benchmarks.infra import start_infra
from benchmarks.procs import Processes
from flows.redis_client import ThreadConnections


class _Counts:
    """Redis round trips and SQL transactions, counted by patching the clients."""

    def __init__(self) -> None:
        self.redis = 0
        self.redis_commands: Counter[str] = Counter()
        self.sql = 0

    def install_redis(self) -> None:
        plain = redis.client.Redis.execute_command
        batched = redis.client.Pipeline.execute
        counts = self

        def execute_command(self, *args, **options):  # noqa: ANN001, ANN002, ANN003, ANN202
            counts.redis += 1
            counts.redis_commands[str(args[0]).upper()] += 1
            return plain(self, *args, **options)

        def execute(self, raise_on_error: bool = True):  # noqa: ANN001, ANN202
            if self.command_stack:
                counts.redis += 1
                counts.redis_commands["PIPELINE"] += 1
            return batched(self, raise_on_error)

        redis.client.Redis.execute_command = execute_command
        redis.client.Pipeline.execute = execute

        together = ThreadConnections.send_together

        def send_together(self, *commands):  # noqa: ANN001, ANN002, ANN202
            counts.redis += 1  # one round trip, as a pipeline
            counts.redis_commands["+".join(str(c[0]).upper() for c in commands)] += 1
            return together(self, *commands)

        ThreadConnections.send_together = send_together  # type: ignore[method-assign]

    def install_sql(self, engine) -> None:  # noqa: ANN001
        @event.listens_for(engine, "begin")
        def _begin(_conn) -> None:  # noqa: ANN001
            self.sql += 1

    def snapshot(self) -> tuple[int, int, Counter[str]]:
        return self.redis, self.sql, Counter(self.redis_commands)


def _container(infra, work: Path):  # noqa: ANN001, ANN202
    import os

    from benchmarks.contenders import chatcart_env
    from commerce.db.migrations import upgrade
    from web.bootstrap import bootstrap
    from web.config import load_config
    from web.environment import load_environment

    env = chatcart_env({}, redis_url=infra.redis_url,
                       database_url=infra.database_url("worker-micro"), fake_url=infra.fake_url)
    os.environ.update(env)
    upgrade(env["DATABASE_URL"])
    return bootstrap(load_config(None), load_environment())


def _ingest(container, batch: str, count: int, users: int, first_user: int) -> None:  # noqa: ANN001
    from bot.line_adapter import LineWebhook

    parser = LineWebhook(payloads.CHANNEL_SECRET, "main")
    for hook in payloads.round_robin(batch, count, users, first_user=first_user):
        container.ingestor.ingest(parser.parse(hook.body, hook.signature))


def _drain(worker, expected: int) -> int:  # noqa: ANN001
    handled = 0
    for _ in range(expected * 4):  # bounded: every call handles a conversation or times out
        if handled >= expected:
            break
        handled += worker.run_once()
    return handled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=512)
    parser.add_argument("--users", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of the last rep to this file")
    args = parser.parse_args(argv)
    counts = _Counts()
    counts.install_redis()
    with tempfile.TemporaryDirectory(prefix="chatcart-worker-micro-") as tmp:
        work = Path(tmp)
        (work / "logs").mkdir()
        with Processes(work / "logs") as procs:
            runs, replies = _measure(args, counts, procs, work)
    summary = {key: statistics.median(run[key] for run in runs)
               for key in ("cpu_ms_per_turn", "wall_ms_per_turn", "redis_per_turn",
                           "sql_tx_per_turn")}
    print(json.dumps({"median": summary, "runs": runs, "fake_line": replies}, indent=1))
    return 0


def _measure(args: argparse.Namespace, counts: _Counts, procs: Processes, work: Path
             ) -> tuple[list[dict], dict]:
    infra = start_infra(procs, work, max_seconds=600)
    container = _container(infra, work)
    counts.install_sql(container.engine)
    worker = container.chat.worker("micro", block_ms=50)
    # Warm-up: every user writes once, so measured turns are returning customers.
    _ingest(container, "warm", args.users, args.users, 0)
    _drain(worker, args.users)
    runs = []
    for rep in range(args.reps):
        _ingest(container, f"rep{rep}", args.turns, args.users, 0)
        profiler = None
        if args.profile and rep == args.reps - 1:
            import cProfile
            profiler = cProfile.Profile(time.process_time)  # CPU time, not waiting
            profiler.enable()
        r0, s0, c0 = counts.snapshot()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        handled = _drain(worker, args.turns)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        r1, s1, c1 = counts.snapshot()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        runs.append({"turns": handled, "cpu_ms_per_turn": 1000 * cpu / handled,
                     "wall_ms_per_turn": 1000 * wall / handled,
                     "redis_per_turn": (r1 - r0) / handled,
                     "sql_tx_per_turn": (s1 - s0) / handled,
                     "redis_commands": {k: round(v / handled, 2)
                                        for k, v in (c1 - c0).most_common()}})
    replies = infra.fake.stats()
    container.close()
    return runs, replies


if __name__ == "__main__":
    raise SystemExit(main())

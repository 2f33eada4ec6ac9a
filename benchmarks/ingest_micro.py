"""CPU per acknowledged webhook, floor against chatcart, in one thread.

The ingest figure is a rate under load on two shared cores, so it moves with
whatever else the machine does. This measures what one acknowledgement costs
instead: distinct signed text-message webhooks (``benchmarks/payloads.py``, 256
users in turn) go through Flask's test client, one after another, to the floor app
and to chatcart's app as ``chatcart serve`` builds it (JSON log lines, written to a
file here). chatcart stores into a private ``redis-server`` (no persistence) whose
CPU is not counted. Reported: CPU and wall microseconds per request of this
process (``time.process_time``), median over the repetitions, and the ratio.

    python -m benchmarks.ingest_micro [--requests 2000] [--reps 5] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from benchmarks import payloads
from benchmarks.contenders import WEBHOOK_PATH, chatcart_env
from benchmarks.procs import Processes, free_port, wait_serving
from web.local_redis import find_redis_server


def _floor_app() -> Flask:
    os.environ.setdefault("BENCH_LINE_SECRET", payloads.CHANNEL_SECRET)
    from benchmarks.contenders.floor_app import app

    return app


def _chatcart_app(redis_url: str, work: Path) -> tuple[Flask, Callable[[], None]]:
    from commerce.db.migrations import upgrade
    from web.app import create_app
    from web.bootstrap import bootstrap
    from web.config import load_config
    from web.environment import load_environment
    from web.logging_setup import setup_logging

    env = chatcart_env({}, redis_url=redis_url,
                       database_url=f"sqlite:///{work / 'chatcart.sqlite3'}",
                       fake_url="http://127.0.0.1:9")  # never called: nothing is sent
    upgrade(env["DATABASE_URL"])
    setup_logging(json_lines=True)  # as chatcart serve does, but into a file
    log_file = open(work / "web.log", "w", encoding="utf-8")  # noqa: SIM115
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log_file)
    container = bootstrap(load_config(None), load_environment(env, var_dir=work / "var"))
    container.ingestor.ensure_group()

    def close() -> None:
        container.close()
        log_file.close()

    return create_app(container), close


def _run(app: Flask, batch: str, count: int) -> dict[str, float]:
    hooks = list(payloads.round_robin(batch, count))
    client = app.test_client()
    ok = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for hook in hooks:
        response = client.post(WEBHOOK_PATH, data=hook.body, headers={
            "X-Line-Signature": hook.signature, "Content-Type": "application/json"})
        ok += response.status_code == 200
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if ok != count:
        raise SystemExit(f"{batch}: only {ok} of {count} webhooks were acknowledged")
    return {"cpu_us": 1e6 * cpu / count, "wall_us": 1e6 * wall / count}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--profile", help="write a cProfile of chatcart's last rep here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chatcart-ingest-micro-") as tmp:
        work = Path(tmp)
        (work / "logs").mkdir()
        with Processes(work / "logs") as procs:
            port = free_port()
            server = procs.start("redis", [find_redis_server(), "--bind", "127.0.0.1",
                                           "--port", str(port), "--save", "",
                                           "--appendonly", "no", "--dir", tmp], dict(os.environ))
            wait_serving(server, port)
            floor = _floor_app()
            chatcart, close = _chatcart_app(f"redis://127.0.0.1:{port}/0", work)
            try:
                runs = _measure(args, floor, chatcart)
            finally:
                close()
    summary = {name: {key: round(statistics.median(r[key] for r in rs), 1)
                      for key in ("cpu_us", "wall_us")} for name, rs in runs.items()}
    summary["cpu_ratio_chatcart_to_floor"] = round(
        summary["chatcart"]["cpu_us"] / summary["floor"]["cpu_us"], 2)
    print(json.dumps({"median_per_request": summary, "requests": args.requests,
                      "runs": runs}, indent=1))
    return 0


def _measure(args: argparse.Namespace, floor: Flask, chatcart: Flask
             ) -> dict[str, list[dict[str, float]]]:
    _run(floor, "warmf", 256)
    _run(chatcart, "warmc", 256)
    runs: dict[str, list[dict[str, float]]] = {"floor": [], "chatcart": []}
    for rep in range(args.reps):
        runs["floor"].append(_run(floor, f"f{rep}", args.requests))
        if args.profile and rep == args.reps - 1:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
            runs["chatcart"].append(_run(chatcart, f"c{rep}", args.requests))
            profiler.disable()
            profiler.dump_stats(args.profile)
        else:
            runs["chatcart"].append(_run(chatcart, f"c{rep}", args.requests))
    return runs


if __name__ == "__main__":
    raise SystemExit(main())

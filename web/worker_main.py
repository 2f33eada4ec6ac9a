"""``chatcart worker``: the background services without HTTP (production shape).

Any number of worker processes may share one Redis and one database. SIGTERM or
Ctrl-C stops the process after the event in hand; an event a killed worker held
is reclaimed by another worker after ``claim_idle_ms``.
"""

from __future__ import annotations

import logging
import signal
import threading

from web.bootstrap import bootstrap
from web.config import ConfigError, load_config
from web.environment import load_environment
from web.logging_setup import setup_logging
from web.runtime import background_services, start_all, stop_all

log = logging.getLogger("chatcart.worker")


def run_workers(config_path: str | None, *, threads: int, claim_idle_ms: int,
                lease_seconds: float) -> int:
    setup_logging()
    config = load_config(config_path)
    env = load_environment()
    if not env.redis_url:
        raise ConfigError("environment: REDIS_URL: chatcart worker needs a shared Redis")
    container = bootstrap(config, env)
    services = background_services(container, worker_threads=threads,
                                   claim_idle_ms=claim_idle_ms, lease_seconds=lease_seconds)
    stopping = threading.Event()

    def _stop(_signum, _frame) -> None:  # noqa: ANN001
        stopping.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        start_all(services)
        print(f"chatcart worker running ({threads} threads)", flush=True)
        while not stopping.wait(1.0):
            pass
    finally:
        stop_all(services)
        container.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0

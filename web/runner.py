"""``chatcart run``: everything in one process for local use and demos.

Starts a private Redis when ``REDIS_URL`` is unset, applies migrations, serves the
web app with a threaded server, and runs the background services as threads.
Ctrl-C (or SIGTERM) stops everything it started, in reverse order.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from werkzeug.serving import make_server

from commerce.db.migrations import upgrade
from web.app import create_app
from web.bootstrap import bootstrap
from web.config import load_config
from web.environment import load_environment
from web.local_redis import LocalRedis, RedisUnavailable, start_local_redis
from web.logging_setup import setup_logging
from web.runtime import background_services, start_all, stop_all
from web.sandbox_mount import mount_sandbox

log = logging.getLogger("chatcart.run")


def _raise_interrupt(_signum, _frame) -> None:  # noqa: ANN001
    raise KeyboardInterrupt


def run_all_in_one(config_path: str | None, *, host: str, port: int) -> int:
    setup_logging()
    config = load_config(config_path)
    env = load_environment()
    local: LocalRedis | None = None
    services = []
    container = None
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    # Explicit, because a process started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        if env.redis_url is None:
            try:
                local = start_local_redis(Path("var"))
            except RedisUnavailable as exc:
                print(str(exc), file=sys.stderr)
                return 1
            log.info("started private redis-server at %s", local.url)
        upgrade(env.database_url)
        server_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        service_base = f"http://{server_host}:{port}"
        container = bootstrap(config, env, redis_url=local.url if local else None,
                              sandbox_base=f"{service_base}/sandbox")
        app = create_app(container)
        if env.line_sandbox or env.messenger_sandbox:
            mount_sandbox(app, container, service_base)
            log.info("sandbox platforms at %s/sandbox/", service_base)
        services = background_services(container)
        server = make_server(host, port, app, threaded=True)
        start_all(services)
        print(f"chatcart is serving {config.store.name} on {service_base} "
              "(Ctrl-C to stop)", flush=True)
        if env.line_sandbox or env.messenger_sandbox:
            print(f"sandbox chat: {service_base}/sandbox/", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        # A second Ctrl-C must not cut the clean-up short and orphan redis-server.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(services)
        if container is not None:
            container.close()
        if local is not None:
            local.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return 0

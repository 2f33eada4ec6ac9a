"""One place that builds Redis clients, always with timeouts.

A Redis call without a timeout can hang a webhook past the platform's deadline,
so every client made here has connect and socket timeouts and health checks.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import redis

DEFAULT_SOCKET_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 2.0


def make_redis(
    url: str,
    *,
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    max_connections: int = 64,
) -> redis.Redis:
    """A client from a URL such as ``redis://127.0.0.1:6379/0`` (bytes responses)."""
    pool = redis.ConnectionPool.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        health_check_interval=30,
        max_connections=max_connections,
        retry_on_timeout=False,
    )
    return ThreadConnections(pool)


class ThreadConnections(redis.Redis):
    """A client whose commands go over a connection each calling thread keeps.

    redis-py's pool lends a connection out and takes it back around every command:
    a lock, a poll of the socket to check it is clean, and bookkeeping for its
    metrics. With a worker's 32 threads on one pool that cost about 120 us of CPU
    per script call, against 45-60 us on a connection of the thread's own (32
    threads, one short script each, on loopback; docs/performance.md, item 28).
    Here each thread gets, on its first command, a single-connection client over the
    same pool, with the same timeouts and health checks; the connection goes back to
    the pool when the thread ends (the client is garbage then). Pipelines and
    pub/sub still borrow from the pool, as with a plain client. A forked child
    drops what it inherited and opens its own.
    """

    def __init__(self, connection_pool: redis.ConnectionPool) -> None:
        super().__init__(connection_pool=connection_pool)
        self._local = threading.local()
        # Held weakly: fork handlers cannot be removed, and tests make many clients.
        forget = weakref.WeakMethod(self._forget_parent)
        os.register_at_fork(after_in_child=lambda: (method := forget()) and method())

    def execute_command(self, *args: Any, **options: Any) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = redis.Redis(connection_pool=self.connection_pool,
                                 single_connection_client=True)
            self._local.client = client
        return client.execute_command(*args, **options)

    def _forget_parent(self) -> None:
        self._local = threading.local()

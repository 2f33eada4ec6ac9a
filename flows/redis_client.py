"""One place that builds Redis clients, always with timeouts.

A Redis call without a timeout can hang a webhook past the platform's deadline,
so every client made here has connect and socket timeouts and health checks.
"""

from __future__ import annotations

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
    return redis.Redis(connection_pool=pool)

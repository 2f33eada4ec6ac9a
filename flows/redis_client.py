"""One place that builds Redis clients, always with timeouts.

A Redis call without a timeout can hang a webhook past the platform's deadline,
so every client made here has connect and socket timeouts and health checks.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Sequence
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

    #: A held connection idle this long (seconds) is checked before its next command.
    #: The check (a poll of the socket) is what made the pool's lending dear under
    #: many threads, so a busy thread skips it; a connection goes stale when Redis
    #: restarts or drops an idle client, and a thread whose command failed meanwhile
    #: has had its connection dropped by redis-py already.
    stale_check_after = 0.5

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return self._thread_client().execute_command(*args, **options)

    def send_together(self, *commands: Sequence[Any]) -> list[Any]:
        """Send ``commands`` in one write on the calling thread's own connection and
        read their replies in order: one round trip. (A pipeline would do that too,
        but borrows a connection from the pool, whose connections the threads
        already hold.) A command may block (``XREADGROUP ... BLOCK``): the ones behind
        it run once it returns. Replies are as the server sent them, without
        redis-py's response callbacks; an error reply comes back in its place as the
        exception, after every reply was read, so the connection stays in step."""
        connection = self._thread_client().connection
        connection.send_packed_command(connection.pack_commands(commands))
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(connection.read_response())
            except redis.ResponseError as exc:
                replies.append(exc)
        return replies

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:  # type: ignore[override]
        """EVALSHA as one ``send_together``: the same connection, timeouts and health
        check, without redis-py's per-command wrapping (its retry object, which
        retries nothing here, the single-connection lock, the observability hooks,
        the response-callback lookup). Scripts are most of the Redis calls of a
        webhook and of a worker's turn, and the wrapping was about 10 us of a
        webhook's CPU (docs/performance.md, item 35). EVALSHA has no response
        callback, so the reply is the same; an error reply (``NoScriptError``
        included, which redis-py's ``Script`` answers by loading the script) is
        raised as before."""
        [reply] = self.send_together(("EVALSHA", sha, numkeys, *keys_and_args))
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _thread_client(self) -> redis.Redis:
        local = self._local
        client = getattr(local, "client", None)
        now = time.monotonic()
        if client is None:
            client = redis.Redis(connection_pool=self.connection_pool,
                                 single_connection_client=True)
            local.client = client
        elif now - local.used > self.stale_check_after:
            _drop_if_stale(client.connection)
        local.used = now
        return client

    def holds_connection(self) -> bool:
        """Whether the calling thread has a connection from an earlier command."""
        return getattr(self._local, "client", None) is not None

    def _forget_parent(self) -> None:
        self._local = threading.local()


def _drop_if_stale(connection: Any) -> None:
    """Disconnect a held connection that has something to read before a command is
    sent: data nobody asked for, or the end of a socket the server closed (Redis
    restarted, or dropped an idle client). The next command then connects afresh,
    as a connection lent by the pool would have been checked the same way."""
    if connection is None:
        return
    try:
        stale = connection.can_read()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        stale = True
    if stale:
        connection.disconnect()

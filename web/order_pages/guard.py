"""Slows down anyone trying tokens on ``/o/<token>``.

A token has 256 random bits, so guessing cannot succeed; the limit is there so a
scanner cannot burn our database and logs with lookups, and so a broken client
stops early. An address that misses too often is locked out for a while, and
while locked out even a right token is not looked up (so the lockout tells a
guesser nothing). If Redis is down the page still opens: the limit protects us
from noise, and customers reading their orders matter more.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from flask import current_app, request

from flows.keys import KeyBuilder
from flows.rate_limits import AttemptLimiter, FailureLimit

MISS_LIMIT = FailureLimit(max_failures=20, window=timedelta(minutes=10),
                          lockout=timedelta(minutes=15))
_EXTENSION = "chatcart.order_pages.guard"
log = logging.getLogger("chatcart.order_page")


def _limiter() -> AttemptLimiter:
    limiter = current_app.extensions.get(_EXTENSION)
    if limiter is None:
        container = current_app.extensions["chatcart"]
        limiter = AttemptLimiter(container.redis, MISS_LIMIT, container.clock,
                                 keys=KeyBuilder(), kind="ratelimit:order-page-misses")
        current_app.extensions[_EXTENSION] = limiter
    return limiter


def _address() -> str:
    return request.remote_addr or "unknown"


def is_locked_out() -> bool:
    try:
        return _limiter().is_locked(_address()) is not None
    except redis.RedisError:
        log.warning("order-page limit unavailable: Redis is down", exc_info=True)
        return False


def register_miss() -> None:
    try:
        _limiter().register_failure(_address())
    except redis.RedisError:
        log.warning("order-page limit unavailable: Redis is down", exc_info=True)

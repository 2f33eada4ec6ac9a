"""Fixtures the flow tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from flows.redis_client import make_redis


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the session's real Redis server, as the flows make them."""
    c = make_redis(redis_url)
    yield c
    c.close()

"""Shared fixtures: a real redis-server per test session (pytest-redis)."""

from __future__ import annotations

import shutil

import pytest
from pytest_redis import factories

REDIS_EXEC = shutil.which("redis-server") or "/usr/bin/redis-server"

redis_proc = factories.redis_proc(executable=REDIS_EXEC, port=None)
redisdb = factories.redisdb("redis_proc")


@pytest.fixture
def redis_url(redis_proc, redisdb) -> str:
    """URL of a real, freshly flushed Redis server for this test."""
    return f"redis://{redis_proc.host}:{redis_proc.port}/0"

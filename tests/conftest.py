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


# -- SQL database and the composition root ------------------------------------------

from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def database_url(tmp_path) -> str:
    """A fresh SQLite file migrated to head with the real Alembic migrations."""
    from commerce.db.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'chatcart.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def app_config():
    from web.config import load_config

    return load_config(REPO / "config.yaml")


@pytest.fixture
def environment(tmp_path, database_url):
    from web.environment import load_environment

    return load_environment(
        {"DATABASE_URL": database_url, "CHATCART_SECRET_KEY": "test-secret-key"},
        var_dir=tmp_path / "var",
    )


@pytest.fixture
def container(app_config, environment, redis_url):
    from web.bootstrap import bootstrap

    built = bootstrap(app_config, environment, redis_url=redis_url)
    yield built
    built.close()


@pytest.fixture
def seeded(container):
    """The container with the demo store loaded."""
    from commerce.demo import seed_demo

    seed_demo(container.catalog, container.customers)
    return container


@pytest.fixture
def shop(app_config, environment):
    """Services over a migrated SQLite file with the demo store; no Redis needed."""
    from commerce.demo import seed_demo
    from web.bootstrap import bootstrap

    built = bootstrap(app_config, environment)
    seed_demo(built.catalog, built.customers)
    yield built
    built.close()


@pytest.fixture
def echo_shop(app_config, environment, redis_url):
    """A live shop (HTTP server, sandbox platforms) whose router echoes, with no inbox
    worker threads: the test drives sending and delivery itself."""
    from bot.routing import EchoRouter
    from tests.support.live_shop import start_live_shop

    shop = start_live_shop(app_config, environment, redis_url, workers=0,
                           configure=lambda c: c.extras.update(router=EchoRouter()))
    yield shop
    shop.stop()

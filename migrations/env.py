"""Alembic environment: migrates the database named by the caller or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from commerce.db.engine import make_engine
from commerce.db.models import metadata

DEFAULT_URL = "sqlite:///var/chatcart.sqlite3"


def _url() -> str:
    return context.config.attributes.get("database_url") or os.environ.get(
        "DATABASE_URL", DEFAULT_URL
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

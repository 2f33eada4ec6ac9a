"""Alembic: an empty database upgrades to head and matches the models exactly."""

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from commerce.db.migrations import upgrade
from commerce.db.models import metadata


def test_empty_database_upgrades_to_head_with_wal(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    upgrade(f"sqlite:///{path}")
    tables = {r[0] for r in sqlite3.connect(path).execute(
        "select name from sqlite_master where type='table'")}
    assert set(metadata.tables) <= tables
    assert sqlite3.connect(path).execute("pragma journal_mode").fetchone()[0] == "wal"


def test_models_and_migrations_agree(tmp_path):
    url = f"sqlite:///{tmp_path / 'cmp.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    upgrade(url)
    upgrade(url)

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


def test_0002_keeps_the_messages_and_adds_the_lookup_indexes_and_goes_back(tmp_path):
    from alembic import command

    from commerce.db.migrations import alembic_config

    path = tmp_path / "step.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0001")
    db = sqlite3.connect(path)
    db.execute("INSERT INTO conversations (id, channel, account, user_id, short_id, "
               "display_name, unread, followed, starred, created_at) VALUES "
               "(1, 'line', 'main', 'U1', 'abc234', 'Amy', 0, 1, 0, '2026-11-24 00:00:00')")
    db.execute("INSERT INTO chat_messages (conversation_id, direction, kind, text, "
               "platform_event_id, status, error, written_by_human, created_at) VALUES "
               "(1, 'in', 'text', '你好', 'ev-1', 'handled', '', 0, '2026-11-24 00:00:00')")
    db.commit()
    upgrade(url)

    def indexes() -> dict[str, str]:
        return dict(sqlite3.connect(path).execute(
            "select name, sql from sqlite_master where type='index' "
            "and tbl_name='chat_messages' and sql is not null"))

    after = indexes()
    assert "WHERE status = 'held'" in after["ix_chat_messages_held"]
    assert "ix_chat_messages_event" in after and "ix_chat_messages_platform_event_id" not in after
    assert sqlite3.connect(path).execute(
        "select text from chat_messages where platform_event_id = 'ev-1'").fetchone() == ("你好",)
    command.downgrade(alembic_config(url), "0001")
    assert "ix_chat_messages_platform_event_id" in indexes()
    assert "ix_chat_messages_held" not in indexes()
    upgrade(url)
    assert indexes() == after

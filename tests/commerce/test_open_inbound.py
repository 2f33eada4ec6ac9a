"""The read before every turn (``ConversationService.open_inbound``) on a migrated
SQLite file: what it answers, and that its cost does not grow with a
conversation's history (each part is an index probe)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from commerce.db.engine import make_engine, make_session_factory
from commerce.db.migrations import upgrade
from commerce.identity import ConversationKey
from commerce.services.conversation_service import _OPEN_INBOUND, ConversationService
from commerce.services.uow import UnitOfWork

AMY = ConversationKey("line", "main", "U" + "a" * 32)
AT = datetime(2026, 11, 24, 5, 0, tzinfo=timezone.utc)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'inbox.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine, ConversationService(UnitOfWork(make_session_factory(engine)))
    engine.dispose()


def add_history(engine, conversation_id: int, count: int) -> None:
    """``count`` messages, half in (with event ids), half out (sent)."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO chat_messages (conversation_id, direction, kind, text, "
            "platform_event_id, status, error, written_by_human, created_at) VALUES "
            "(:c, :d, 'text', 'hi', :e, :s, '', 0, '2026-11-24 00:00:00')"),
            [{"c": conversation_id, "d": "in" if k % 2 else "out",
              "e": f"old-{k}" if k % 2 else None, "s": "handled" if k % 2 else "sent"}
             for k in range(count)])


def test_a_new_event_an_event_seen_before_and_held_updates(db):
    engine, conversations = db
    conv = conversations.ensure(AMY, "Amy")
    add_history(engine, conv.id, 40)
    start = conversations.open_inbound(AMY, "ev-new", AT)
    assert (start.conversation.id, start.seen, start.handled, start.has_held) == \
        (conv.id, None, False, False)
    assert start.conversation.last_inbound_at == AT  # counts the event being handled
    recorded = conversations.record_inbound(conv.id, event_id="ev-new", kind="text",
                                            text="嗨", at=AT)
    again = conversations.open_inbound(AMY, "ev-new", AT - timedelta(seconds=1))
    assert (again.seen, again.handled) == (recorded.message_id, False)
    assert again.conversation.last_inbound_at == AT  # never moves back
    with engine.begin() as conn:
        conn.execute(text("UPDATE chat_messages SET status = 'handled' WHERE id = :i"),
                     {"i": recorded.message_id})
        conn.execute(text("UPDATE chat_messages SET status = 'held' WHERE id = "
                          "(SELECT min(id) FROM chat_messages WHERE direction = 'out')"))
    done = conversations.open_inbound(AMY, "ev-new", AT)
    assert (done.seen, done.handled, done.has_held) == (recorded.message_id, True, True)
    # Another conversation's event with the same platform id is not this one's.
    ben = conversations.ensure(ConversationKey("line", "main", "U" + "b" * 32), "Ben")
    assert conversations.open_inbound(ben.key, "ev-new", AT).seen is None


def test_the_read_probes_indexes_instead_of_reading_the_history(db, tmp_path):
    engine, conversations = db
    conv = conversations.ensure(AMY, "Amy")
    add_history(engine, conv.id, 2000)
    compiled = _OPEN_INBOUND.compile(dialect=engine.dialect)
    values = {**{name: bind.effective_value for name, bind in compiled.binds.items()
                 if not bind.required},
              "channel": "line", "account": "main", "user_id": AMY.user_id,
              "event_id": "old-7"}
    with sqlite3.connect(tmp_path / "inbox.sqlite3") as raw:
        plan = [row[-1] for row in raw.execute(
            "EXPLAIN QUERY PLAN " + compiled.string,
            [values[name] for name in compiled.positiontup])]
    on_messages = [step for step in plan if "chat_messages" in step or " seen " in step]
    assert on_messages, plan
    assert all("ix_chat_messages_event" in step or "ix_chat_messages_held" in step
               for step in on_messages), plan
    assert conversations.open_inbound(AMY, "old-7", AT).handled

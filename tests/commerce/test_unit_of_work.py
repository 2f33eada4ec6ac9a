"""Units of work on SQLite: writers serialise on the write lock; readers do not
wait for them (WAL), and a failed writer leaves nothing behind."""

import threading

import pytest
from sqlalchemy import text

from commerce.services.uow import after_commit
from tests.support.sqlite_uow import sqlite_uow


@pytest.fixture
def uow(tmp_path):
    with sqlite_uow(tmp_path / "uow.sqlite3", "CREATE TABLE t (x INTEGER)",
                    "INSERT INTO t VALUES (1)") as work:
        yield work


def test_a_reader_does_not_wait_for_an_open_writer(uow):
    writing, done = threading.Event(), threading.Event()
    read = uow.read

    def writer():
        with uow() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(10)
    try:
        # would block (the write gate, or the busy timeout) if it took the write lock
        with read() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
    finally:
        done.set()
        thread.join(10)
    with uow.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_failed_writer_rolls_back_and_skips_its_after_commit_hooks(uow):
    ran: list[str] = []
    with pytest.raises(RuntimeError), uow() as session:
        session.execute(text("INSERT INTO t VALUES (3)"))
        after_commit(session, lambda: ran.append("hook"))
        raise RuntimeError("boom")
    assert ran == []
    with uow.read() as session:
        assert session.execute(text("SELECT count(*) FROM t WHERE x = 3")).scalar() == 0


def test_a_session_read_runs_in_one_transaction(uow):
    """A Session read may run several statements, so it keeps one snapshot."""
    with uow.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
        assert session.connection().connection.driver_connection.in_transaction

"""SharedWrites: outbox writes of many threads share transactions on real SQLite,
and a write that fails fails alone."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from bot.group_commit import SharedWrites
from commerce.services.uow import Rows, after_commit
from tests.bot.test_group_commit import waiting_for
from tests.support.sqlite_uow import sqlite_uow


@pytest.fixture
def uow(tmp_path):
    with sqlite_uow(tmp_path / "writes.sqlite3", "CREATE TABLE t (x INTEGER UNIQUE)") as work:
        yield work


def rows(uow) -> list[int]:
    with uow.read() as session:
        return [r[0] for r in session.execute(text("SELECT x FROM t ORDER BY x"))]


def insert(x: int):
    def work(session):
        session.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})
        return x * 10
    return work


def blocked_first_write(writes: SharedWrites):
    """Start a write that holds the group until released; returns (thread, release)."""
    started, release = threading.Event(), threading.Event()

    def slow(session):
        session.execute(text("INSERT INTO t VALUES (0)"))
        started.set()
        assert release.wait(5)
        return 0

    thread = threading.Thread(target=writes.run, args=(slow,))
    thread.start()
    assert started.wait(5)
    return thread, release


def run_all(writes: SharedWrites, works: dict[int, object]) -> tuple[list, dict, dict]:
    results, errors = {}, {}

    def call(key, work):
        try:
            results[key] = writes.run(work)
        except Exception as exc:  # noqa: BLE001
            errors[key] = exc

    threads = [threading.Thread(target=call, args=item) for item in works.items()]
    for thread in threads:
        thread.start()
    return threads, results, errors


def test_writes_that_arrive_during_a_write_share_the_next_transaction(uow):
    writes = SharedWrites(uow)
    first, release = blocked_first_write(writes)
    threads, results, errors = run_all(writes, {x: insert(x) for x in range(1, 7)})
    waiting_for(lambda: len(writes._group._queue) == 6)
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
        assert not thread.is_alive()
    assert errors == {}
    assert results == {x: x * 10 for x in range(1, 7)}  # each caller gets its own result
    assert rows(uow) == list(range(7))
    assert writes.groups == 2  # the first alone, then the six together


def test_a_failing_write_fails_alone_and_the_others_of_its_group_are_kept(uow):
    writes = SharedWrites(uow)
    writes.run(insert(5))
    first, release = blocked_first_write(writes)

    def half_done(session):  # writes one row, then breaks: neither may remain
        session.execute(text("INSERT INTO t VALUES (40)"))
        session.execute(text("INSERT INTO t VALUES (5)"))  # UNIQUE violation

    threads, results, errors = run_all(
        writes, {1: insert(1), 2: half_done, 3: insert(3)})
    waiting_for(lambda: len(writes._group._queue) == 3)
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
        assert not thread.is_alive()
    assert set(errors) == {2}
    assert "UNIQUE" in str(errors[2])
    assert results == {1: 10, 3: 30}
    assert rows(uow) == [0, 1, 3, 5]


def test_after_commit_hooks_run_in_each_callers_own_thread_after_the_commit(uow):
    writes = SharedWrites(uow)
    seen: dict[int, tuple[str, list[int]]] = {}

    def with_hook(x: int):
        def work(session):
            session.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})
            after_commit(session, lambda: seen.__setitem__(
                x, (threading.current_thread().name, rows(uow))))
        return work

    first, release = blocked_first_write(writes)
    threads = [threading.Thread(target=writes.run, args=(with_hook(x),), name=f"caller-{x}")
               for x in (1, 2)]
    for thread in threads:
        thread.start()
    waiting_for(lambda: len(writes._group._queue) == 2)
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
    assert seen[1][0] == "caller-1" and seen[2][0] == "caller-2"
    assert 1 in seen[1][1] and 2 in seen[1][1]  # committed when the hook ran


def test_a_lone_failing_write_raises_and_leaves_nothing(uow):
    writes = SharedWrites(uow)

    def broken(session):
        session.execute(text("INSERT INTO t VALUES (9)"))
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        writes.run(broken)
    assert rows(uow) == []
    assert writes.run(insert(9)) == 90



def in_threads(*calls) -> tuple[list[threading.Thread], dict[int, Exception]]:
    errors: dict[int, Exception] = {}

    def call(index, fn):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            errors[index] = exc

    threads = [threading.Thread(target=call, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    return threads, errors


def test_same_statement_writes_of_a_group_go_out_as_one_executemany(uow):
    from sqlalchemy import event

    writes = SharedWrites(uow)
    statement = text("INSERT INTO t VALUES (:x)")
    inserts: list[int] = []  # rows per INSERT sent to SQLite
    engine = uow._factory.kw["bind"]

    def count(_conn, _cursor, sql, params, _context, executemany):  # noqa: ANN001
        if sql.startswith("INSERT"):
            inserts.append(len(params) if executemany else 1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        first, release = blocked_first_write(writes)
        threads, errors = in_threads(
            lambda: writes.run_rows(Rows(statement, [{"x": 1}, {"x": 2}])),
            lambda: writes.run_rows(Rows(statement, [{"x": 3}])),
            lambda: writes.run(insert(4)))
        waiting_for(lambda: len(writes._group._queue) == 3)
        release.set()
        for thread in [first, *threads]:
            thread.join(5)
            assert not thread.is_alive()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert errors == {}
    assert rows(uow) == [0, 1, 2, 3, 4]
    assert sorted(inserts) == [1, 1, 3]  # the blocked one, insert(4), the three together
    assert writes.groups == 2


def test_a_failing_executemany_write_fails_alone(uow):
    writes = SharedWrites(uow)
    writes.run(insert(7))
    statement = text("INSERT INTO t VALUES (:x)")
    first, release = blocked_first_write(writes)
    threads, errors = in_threads(
        lambda: writes.run_rows(Rows(statement, [{"x": 1}])),
        lambda: writes.run_rows(Rows(statement, [{"x": 2}, {"x": 7}])),  # UNIQUE violation
        lambda: writes.run(insert(3)))
    waiting_for(lambda: len(writes._group._queue) == 3)
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
    assert set(errors) == {1} and "UNIQUE" in str(errors[1])
    assert rows(uow) == [0, 1, 3, 7]


def test_after_commit_on_a_plain_connection_needs_a_writer_that_runs_hooks(uow):
    engine = uow._factory.kw["bind"]
    with engine.connect() as connection, pytest.raises(RuntimeError, match="runs no hooks"):
        after_commit(connection, lambda: None)


LOG = sa.Table("log", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
               sa.Column("what", sa.String))
LOG_INSERT = sa.insert(LOG).returning(LOG.c.id, sort_by_parameter_order=True)
T_INSERT = text("INSERT INTO t VALUES (:x)")


def log_rows(uow) -> list[tuple[int, str]]:
    with uow.read() as session:
        return [tuple(r) for r in session.execute(text("SELECT id, what FROM log ORDER BY id"))]


@pytest.fixture
def log_uow(tmp_path):
    with sqlite_uow(tmp_path / "log.sqlite3", "CREATE TABLE t (x INTEGER UNIQUE)",
                    "CREATE TABLE log (id INTEGER PRIMARY KEY, what TEXT)") as work:
        yield work


def grouped(writes: SharedWrites, *calls):
    """Run ``calls`` (each queued in turn) as one group behind a blocked write."""
    first, release = blocked_first_write(writes)
    threads, errors, results = [], {}, {}
    for index, call in enumerate(calls):
        def run(index=index, call=call):
            try:
                results[index] = call()
            except Exception as exc:  # noqa: BLE001
                errors[index] = exc
        thread = threading.Thread(target=run)
        thread.start()
        threads.append(thread)
        waiting_for(lambda n=index + 1: len(writes._group._queue) == n)
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
        assert not thread.is_alive()
    return results, errors


def test_each_write_gets_the_ids_of_its_own_rows_from_one_merged_insert(log_uow):
    writes = SharedWrites(log_uow)
    results, errors = grouped(
        writes,
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "a1"}, {"what": "a2"}])),
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "b1"}])),
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "c1"}, {"what": "c2"}])))
    assert errors == {}
    stored = dict((what, row_id) for row_id, what in log_rows(log_uow))
    assert results == {0: [[stored["a1"], stored["a2"]]], 1: [[stored["b1"]]],
                       2: [[stored["c1"], stored["c2"]]]}
    assert [what for _, what in log_rows(log_uow)] == ["a1", "a2", "b1", "c1", "c2"]


def test_a_writes_own_order_of_statements_is_kept_when_merged(log_uow):
    """A turn writes the customer's message, then the reply; a notice written in the
    same group only the reply: the turn's message must still get the lower id."""
    writes = SharedWrites(log_uow)
    message = sa.insert(LOG).values(what=sa.bindparam("text"))
    results, errors = grouped(
        writes,
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "notice"}])),
        lambda: writes.run_rows(Rows(message, [{"text": "customer"}]),
                                Rows(LOG_INSERT, [{"what": "reply"}])))
    assert errors == {}
    order = [what for _, what in log_rows(log_uow)]
    assert order.index("customer") < order.index("reply")
    assert results[1][0] == [] and len(results[1][1]) == 1  # no RETURNING: no ids


def test_writes_whose_orders_disagree_are_made_one_by_one(log_uow):
    writes = SharedWrites(log_uow)
    results, errors = grouped(
        writes,
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "a-log"}]),
                                Rows(T_INSERT, [{"x": 1}])),
        lambda: writes.run_rows(Rows(T_INSERT, [{"x": 2}]),
                                Rows(LOG_INSERT, [{"what": "b-log"}])))
    assert errors == {}
    assert [what for _, what in log_rows(log_uow)] == ["a-log", "b-log"]
    assert rows(log_uow) == [0, 1, 2]
    assert results[0][1] == [] and results[1][0] == []

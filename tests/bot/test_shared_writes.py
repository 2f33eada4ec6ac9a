"""SharedWrites: outbox writes of many threads share transactions on real SQLite,
each statement goes out once per group, and a write that fails fails alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event, text

from bot.group_commit import SharedWrites
from commerce.services.uow import Rows
from tests.bot.test_group_commit import waiting_for
from tests.support.sqlite_uow import sqlite_uow

T_INSERT = text("INSERT INTO t VALUES (:x)")
BLOCKER = text("INSERT INTO t VALUES (0)")
LOG = sa.Table("log", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
               sa.Column("what", sa.String))
LOG_INSERT = sa.insert(LOG).returning(LOG.c.id, sort_by_parameter_order=True)


@pytest.fixture
def uow(tmp_path):
    with sqlite_uow(tmp_path / "writes.sqlite3", "CREATE TABLE t (x INTEGER UNIQUE)",
                    "CREATE TABLE log (id INTEGER PRIMARY KEY, what TEXT)") as work:
        yield work


def rows(uow) -> list[int]:
    with uow.read() as session:
        return [r[0] for r in session.execute(text("SELECT x FROM t ORDER BY x"))]


def log_rows(uow) -> list[tuple[int, str]]:
    with uow.read() as session:
        return [tuple(r) for r in session.execute(text("SELECT id, what FROM log ORDER BY id"))]


def put(*xs: int) -> Rows:
    return Rows(T_INSERT, [{"x": x} for x in xs])


@contextmanager
def held_group(writes: SharedWrites, uow) -> Iterator[threading.Event]:
    """A first write (x = 0) that holds its group open, inside its transaction,
    until the event yielded is set; the block queues writes behind it."""
    engine = uow._factory.kw["bind"]
    started, release = threading.Event(), threading.Event()

    def hold(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001
        if statement == BLOCKER.text:
            started.set()
            assert release.wait(5)

    event.listen(engine, "before_cursor_execute", hold)
    first = threading.Thread(target=writes.run_rows, args=(Rows(BLOCKER, [{}]),))
    first.start()
    try:
        assert started.wait(5)
        yield release
    finally:
        release.set()
        first.join(5)
        event.remove(engine, "before_cursor_execute", hold)
    assert not first.is_alive()


def grouped(writes: SharedWrites, uow, *calls) -> tuple[dict, dict]:
    """Run ``calls`` (each queued in turn behind a held write) as one group; returns
    each call's result and error by position."""
    results: dict[int, object] = {}
    errors: dict[int, Exception] = {}

    def run(index, call):
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001
            errors[index] = exc

    threads = []
    with held_group(writes, uow):
        for index, call in enumerate(calls):
            thread = threading.Thread(target=run, args=(index, call))
            thread.start()
            threads.append(thread)
            waiting_for(lambda n=index + 1: len(writes._group._queue) == n)
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()
    return results, errors


def test_writes_that_arrive_during_a_write_share_the_next_transaction(uow):
    writes = SharedWrites(uow)
    results, errors = grouped(writes, uow, *[
        lambda x=x: writes.run_rows(put(x)) for x in range(1, 7)])
    assert errors == {}
    assert results == {i: [[]] for i in range(6)}  # no RETURNING: no ids
    assert rows(uow) == list(range(7))
    assert writes.groups == 2  # the held one alone, then the six together


def test_same_statement_writes_of_a_group_go_out_as_one_executemany(uow):
    writes = SharedWrites(uow)
    inserts: list[int] = []  # rows per INSERT INTO t sent to SQLite
    engine = uow._factory.kw["bind"]

    def count(_conn, _cursor, statement, params, _context, executemany):  # noqa: ANN001
        if statement.startswith("INSERT INTO t "):
            inserts.append(len(params) if executemany else 1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        _, errors = grouped(writes, uow, lambda: writes.run_rows(put(1, 2)),
                            lambda: writes.run_rows(put(3)), lambda: writes.run_rows(put(4)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert errors == {}
    assert rows(uow) == [0, 1, 2, 3, 4]
    assert inserts == [1, 4]  # the held one, then all four rows in one
    assert writes.groups == 2


def test_a_failing_write_fails_alone_and_the_others_of_its_group_are_kept(uow):
    writes = SharedWrites(uow)
    writes.run_rows(put(5))
    _, errors = grouped(writes, uow, lambda: writes.run_rows(put(1)),
                        lambda: writes.run_rows(put(40, 5)),  # 5 again: UNIQUE violation
                        lambda: writes.run_rows(put(3)))
    assert set(errors) == {1}
    assert "UNIQUE" in str(errors[1])
    assert rows(uow) == [0, 1, 3, 5]  # nothing of the failed write, not even its 40


def test_a_lone_failing_write_raises_and_leaves_nothing(uow):
    writes = SharedWrites(uow)
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
        writes.run_rows(put(9), put(9))
    assert rows(uow) == []
    assert writes.run_rows(put(9)) == [[]]
    assert rows(uow) == [9]


def test_a_write_without_rows_makes_no_transaction(uow):
    writes = SharedWrites(uow)
    assert writes.run_rows(Rows(T_INSERT, []), Rows(LOG_INSERT, [])) == [[], []]
    assert writes.groups == 0


def test_each_write_gets_the_ids_of_its_own_rows_from_one_merged_insert(uow):
    writes = SharedWrites(uow)
    results, errors = grouped(
        writes, uow,
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "a1"}, {"what": "a2"}])),
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "b1"}])),
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "c1"}, {"what": "c2"}])))
    assert errors == {}
    stored = {what: row_id for row_id, what in log_rows(uow)}
    assert results == {0: [[stored["a1"], stored["a2"]]], 1: [[stored["b1"]]],
                       2: [[stored["c1"], stored["c2"]]]}
    assert [what for _, what in log_rows(uow)] == ["a1", "a2", "b1", "c1", "c2"]


def test_a_writes_own_order_of_statements_is_kept_when_merged(uow):
    """A turn writes the customer's message, then the reply; a notice written in the
    same group only the reply: the turn's message must still get the lower id."""
    writes = SharedWrites(uow)
    message = sa.insert(LOG).values(what=sa.bindparam("text"))
    results, errors = grouped(
        writes, uow,
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "notice"}])),
        lambda: writes.run_rows(Rows(message, [{"text": "customer"}]),
                                Rows(LOG_INSERT, [{"what": "reply"}])))
    assert errors == {}
    order = [what for _, what in log_rows(uow)]
    assert order.index("customer") < order.index("reply")
    assert results[1][0] == [] and len(results[1][1]) == 1


def test_writes_whose_orders_disagree_are_made_one_by_one(uow):
    writes = SharedWrites(uow)
    results, errors = grouped(
        writes, uow,
        lambda: writes.run_rows(Rows(LOG_INSERT, [{"what": "a-log"}]), put(1)),
        lambda: writes.run_rows(put(2), Rows(LOG_INSERT, [{"what": "b-log"}])))
    assert errors == {}
    assert [what for _, what in log_rows(uow)] == ["a-log", "b-log"]
    assert rows(uow) == [0, 1, 2]
    assert results[0][1] == [] and results[1][0] == []


def test_a_detached_write_alone_is_written_before_it_returns(uow):
    writes = SharedWrites(uow)
    writes.run_rows_detached(put(5))
    assert rows(uow) == [5]
    with pytest.raises(sa.exc.IntegrityError):  # written now, for its caller: raised
        writes.run_rows_detached(put(5))


def test_a_detached_write_joins_the_next_group_without_waiting_and_settle_waits_for_it(uow):
    writes = SharedWrites(uow)
    waiter_done = threading.Event()
    settled: list[list[int]] = []

    def waiter() -> None:
        writes.run_rows(put(1))
        waiter_done.set()

    def settle() -> None:
        writes.settle()
        settled.append(rows(uow))

    with held_group(writes, uow):
        thread = threading.Thread(target=waiter)
        thread.start()
        waiting_for(lambda: len(writes._group._queue) == 1)
        writes.run_rows_detached(put(2))  # returns while the group is still held
        assert rows(uow) == []
        settler = threading.Thread(target=settle)
        settler.start()
        waiting_for(lambda: len(writes._group._queue) == 3)
        assert not waiter_done.is_set()
    thread.join(5)
    settler.join(5)
    assert not thread.is_alive() and not settler.is_alive()
    assert rows(uow) == [0, 1, 2]
    assert settled == [[0, 1, 2]]  # settle returned only once the detached row was in
    assert writes.groups == 2  # the held write, then waiter + detached + settle together


def test_a_failing_detached_write_is_logged_and_the_others_of_its_group_are_kept(uow, caplog):
    writes = SharedWrites(uow)
    writes.run_rows(put(7))
    with held_group(writes, uow):
        thread = threading.Thread(target=writes.run_rows, args=(put(3),))
        thread.start()
        waiting_for(lambda: len(writes._group._queue) == 1)
        writes.run_rows_detached(put(7))  # a duplicate: fails inside the group, not here
    thread.join(5)
    assert not thread.is_alive()
    assert rows(uow) == [0, 3, 7]  # the waiter's row kept, the duplicate not added
    assert "a detached write failed" in caplog.text


def test_settle_with_nothing_being_written_returns_at_once_and_writes_nothing(uow):
    writes = SharedWrites(uow)
    writes.settle()
    assert writes.groups == 0

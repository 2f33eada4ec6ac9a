"""The SQLite write gate: writers of different engines (as of different processes)
queue for the write lock and are woken as soon as it is free."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from commerce.db.engine import make_engine, make_session_factory
from commerce.db.write_gate import WriteGate
from commerce.services.uow import UnitOfWork


@pytest.fixture
def two_engines(tmp_path):
    url = f"sqlite:///{tmp_path / 'gate.sqlite3'}"
    engines = [make_engine(url), make_engine(url)]
    works = [UnitOfWork(make_session_factory(e)) for e in engines]
    with works[0]() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    yield works
    for engine in engines:
        engine.dispose()


def test_a_second_writer_waits_for_the_first_and_goes_on_when_it_commits(two_engines):
    first, second = two_engines
    holding, release = threading.Event(), threading.Event()
    finished: list[float] = []

    def hold():
        with first() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            assert release.wait(10)

    def write():
        with second() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        finished.append(time.monotonic())

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    assert finished == []  # still queued behind the open write transaction
    released = time.monotonic()
    release.set()
    holder.join(5)
    writer.join(5)
    assert finished and finished[0] - released < 2.0
    with first.read() as session:
        assert sorted(r[0] for r in session.execute(text("SELECT x FROM t"))) == [1, 2]


def test_a_failed_write_gives_the_gate_back(two_engines):
    first, second = two_engines
    with pytest.raises(RuntimeError), first() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("boom")
    done = threading.Event()

    def write():
        with second() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        with first() as session:  # and the same engine can write again
            session.execute(text("INSERT INTO t VALUES (3)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5)


def test_the_gate_file_queues_across_open_files(tmp_path):
    path = tmp_path / "x.writelock"
    a, b = WriteGate(path, 5), WriteGate(path, 5)
    a.enter()
    entered = threading.Event()

    def enter_b():
        b.enter()
        entered.set()
        b.leave()

    thread = threading.Thread(target=enter_b, daemon=True)
    thread.start()
    assert not entered.wait(0.3)
    a.leave()
    assert entered.wait(5)


def test_threads_of_one_process_that_cannot_get_in_in_time_get_a_clear_error():
    gate = WriteGate(None, 0.1)
    gate.enter()
    errors: list[Exception] = []

    def late():
        try:
            gate.enter()
        except TimeoutError as exc:
            errors.append(exc)

    thread = threading.Thread(target=late)
    thread.start()
    thread.join(5)
    gate.leave()
    assert errors and "no SQL write slot" in str(errors[0])
    gate.enter()  # free again
    gate.leave()


def test_a_forked_child_queues_behind_its_parent_and_a_dropped_gate_is_freed(tmp_path):
    import gc
    import os
    import weakref

    gate = WriteGate(tmp_path / "x.writelock", 5)
    gate.enter()
    try:
        pid = os.fork()
        if pid == 0:  # the child has its own open file, so the parent's flock holds it
            waiting = threading.Thread(target=gate.enter, daemon=True)
            waiting.start()
            waiting.join(0.3)
            os._exit(0 if waiting.is_alive() else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        gate.leave()
    assert os.waitstatus_to_exitcode(status) == 0
    dropped = WriteGate(None, 1)
    ref = weakref.ref(dropped)
    del dropped
    gc.collect()
    assert ref() is None  # the fork handler does not keep it alive

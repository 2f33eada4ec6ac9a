"""Group commit: small writes that many threads make at once, written together.

A worker thread that has just delivered a reply records it as sent: one short
SQL transaction (and one Redis pipeline to clear the delivery bookkeeping). With
eight threads doing that at once on SQLite, each transaction queues for the one
write lock and pays its own BEGIN and COMMIT. Here the writes that arrive while
one is being made wait for it to finish and are then made together, in one
transaction.

The first caller that finds no write in progress leads: it takes everything
queued so far (its own item included), writes it, and wakes those callers.
Items queued meanwhile are written by the next leader, the oldest waiter, so no
thread writes other threads' items forever. A caller returns only once its own
item is written, and gets the write's exception if it failed, so it sees what it
would have seen with a transaction of its own. A lone caller writes at once.

An item nobody needs to wait for (``submit_detached``) rides along with the next
write when a waiting caller is already queued for it: that caller's thread
writes it, so it is never left behind, and its submitter goes on at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from graphlib import CycleError, TopologicalSorter
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.sql import Executable

from commerce.db.prepared_write import PreparedWrite
from commerce.services.uow import Rows, UnitOfWork

T = TypeVar("T")
log = logging.getLogger("chatcart.writes")


class _Ticket(Generic[T]):
    """One submitted item and the one-shot signal its caller waits on.

    The signal is a bare lock taken at creation: ``wait`` blocks acquiring it,
    ``wake`` releases it. Every ticket is woken exactly once, by one thread. A
    ``threading.Event`` does the same through a Condition, whose waiter lists and
    extra locks were about a tenth of a busy worker's CPU (docs/performance.md,
    item 22)."""

    __slots__ = ("item", "_signal", "lead", "error")

    def __init__(self, item: T, *, waits: bool = True) -> None:
        self.item = item
        self._signal: threading.Lock | None = None
        if waits:
            self._signal = threading.Lock()
            self._signal.acquire()
        self.lead = False
        self.error: BaseException | None = None

    @property
    def waits(self) -> bool:
        return self._signal is not None

    def wait(self) -> None:
        self._signal.acquire()  # type: ignore[union-attr]

    def wake(self) -> None:
        if self._signal is not None:
            self._signal.release()


class GroupCommit(Generic[T]):
    """``submit(item)`` returns once ``write`` has been called with a batch holding
    ``item`` and returned. ``write`` gets the items in the order they were submitted."""

    def __init__(self, write: Callable[[Sequence[T]], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._queue: list[_Ticket[T]] = []
        #: Tickets in the queue whose callers wait. A non-empty queue always starts
        #: with one (detached tickets join only behind a waiting one), and that one
        #: leads the next write.
        self._waiting = 0
        self._writing = False
        self.batches = 0  # writes made, for tests and benchmarks

    def submit(self, item: T) -> None:
        ticket = _Ticket(item)
        with self._lock:
            self._queue.append(ticket)
            self._waiting += 1
            lead = not self._writing
            self._writing = True
        if not lead:
            ticket.wait()
            if not ticket.lead:  # a leader wrote it
                if ticket.error is not None:
                    raise ticket.error
                return
        self._lead(ticket)

    def submit_detached(self, item: T) -> bool:
        """Queue ``item`` for the next write without waiting for it, if a waiting
        caller is already queued for that write (its thread writes the item);
        True then. Otherwise nothing is queued and False is returned: the caller
        should ``submit`` it. A detached item's failure is logged, since nobody
        is there to get it (the write itself may also report it)."""
        with self._lock:
            if not self._waiting:
                return False
            self._queue.append(_Ticket(item, waits=False))
            return True

    @property
    def writing(self) -> bool:
        """A write is in progress (and detached items may be waiting for it)."""
        return self._writing

    def _lead(self, mine: _Ticket[T]) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
            self._waiting = 0
        error: BaseException | None = None
        try:
            self._write([ticket.item for ticket in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            error = exc
        with self._lock:
            self.batches += 1
            if self._queue:  # arrived while writing: the oldest (a waiting one) leads next
                successor = self._queue[0]
                successor.lead = True
                successor.wake()
            else:
                self._writing = False
        for ticket in batch:
            ticket.error = error
            if ticket is not mine:
                ticket.wake()
            if error is not None and not ticket.waits:
                log.error("a write nobody waits for failed", exc_info=error)
        if error is not None:
            raise error


class _Job:
    __slots__ = ("parts", "result", "error", "detached")

    def __init__(self, parts: Sequence[Rows], *, detached: bool = False) -> None:
        self.parts = parts
        self.result: list[list[Any]] = [[] for _ in parts]
        self.error: BaseException | None = None
        self.detached = detached


class SharedWrites:
    """One process's short SQL writes, from many threads, committed together.

    On SQLite every write transaction takes the database's one write lock, and a
    busy worker process has many threads that each write twice per turn (the event
    with its replies, then the ``sent`` marks). Writes given to ``run_rows`` while
    another is being committed are made in the next transaction together, so the
    lock is taken once per group, not per write (docs/performance.md, item 14).

    A write is described as ``Rows`` (prebuilt Core statements and their parameter
    sets) and made on a plain connection, not a Session, whose bookkeeping was about
    a fifth of these writes' cost and buys nothing for them (item 24). A group sends
    each statement once, with the rows of all its writes. That matters more than the
    CPU it saves: the group holds the database's one write lock, and every statement
    releases the GIL and must win it back from the process's other threads, which
    stretched a group's hold on the lock to about 2 ms under load (item 26).

    A group is tried as one transaction. If any of its writes fails, that
    transaction is rolled back and each write is made again alone, so only the
    failing one fails, with its own error, in its own caller (savepoints would do
    the same, at two more statements per write on every group).

    A write whose caller need not wait for it (``run_rows_detached``: the ``sent``
    mark of a reply that went out) joins the next group when another thread is
    already waiting to write that group, and its caller goes on at once; readers
    in this process that could act on it call ``settle`` first (item 29).
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._group: GroupCommit[_Job] = GroupCommit(self._write)
        #: Statements compiled once per parameter names (None: send them the usual
        #: way), docs/performance.md item 36. Only the writing thread fills it.
        self._prepared: dict[tuple[Executable, tuple[str, ...]], PreparedWrite | None] = {}

    @property
    def groups(self) -> int:
        """Groups of writes made so far, each normally one transaction (for tests
        and benchmarks)."""
        return self._group.batches

    def run_rows(self, *parts: Rows) -> list[list[Any]]:
        """Each part's statement with its parameter sets, inside a shared
        transaction; returns, once that has committed, per part the first column of
        the rows it returned (empty for a statement that returns none).

        Each statement of a group goes out once with the rows of every write that
        has it (an ``executemany``, or for an ``INSERT ... RETURNING`` one multi-row
        insert), in an order that keeps each write's own order of statements. A
        statement that returns rows must return them in parameter order
        (``sort_by_parameter_order=True``), so each write gets its own. Use it where
        that is the only order that matters: rows inserted by one statement get ids
        in the order of the writes, and a write given after another in the same
        group may still have its statement sent first."""
        job = _Job(parts)
        if not any(part.params for part in parts):
            return job.result
        self._group.submit(job)
        if job.error is not None:
            raise job.error
        return job.result

    def run_rows_detached(self, *parts: Rows) -> None:
        """Like ``run_rows`` for statements that return nothing, but without waiting
        when it can: if another thread is already queued to write the next group,
        the parts join that group and this returns at once (a failure is then
        logged, not raised); otherwise they are written now, as ``run_rows`` does.

        Under load a worker thread that has delivered a reply no longer waits a
        group's commit (and a hand-off between threads) for its ``sent`` mark
        before taking its next event (docs/performance.md, item 29). Until the
        group commits, a crash loses the mark and a retry may send again: the
        window that exists between the platform's answer and any mark, by the
        length of one group's write."""
        if not any(part.params for part in parts):
            return
        if not self._group.submit_detached(_Job(parts, detached=True)):
            self.run_rows(*parts)  # written now, for this caller: its error is raised

    def settle(self) -> None:
        """Returns once every write detached in this process before the call is
        committed: for a reader that would act on a row such a write changes
        (``Outbox.open_batches`` resending what looks unsent)."""
        if self._group.writing:
            self._group.submit(_Job(()))

    def _write(self, jobs: Sequence[_Job]) -> None:
        if not any(job.parts for job in jobs):  # only ``settle`` calls
            return
        if len(jobs) > 1:
            try:
                self._together(jobs)
                return
            except Exception:  # noqa: BLE001 - one of them failed: each alone below
                log.info("shared write failed; writing its %d parts one by one", len(jobs))
        for job in jobs:
            try:
                self._together([job])
            except Exception as exc:  # noqa: BLE001 - handed to that job's caller
                job.error = exc
                if job.detached:
                    log.error("a detached write failed; its rows keep their old state",
                              exc_info=exc)

    def _together(self, jobs: Sequence[_Job]) -> None:
        """All in one transaction; the first error rolls it all back."""
        with self._uow.write_connection() as connection:
            _write_rows(connection, jobs, self._send)

    def _send(self, connection: Connection, rows: Rows) -> list[Any]:
        """One statement with its parameter sets: through a ``PreparedWrite`` when
        the statement allows it (it returns no rows then), else ``Rows.execute``."""
        names = tuple(rows.params[0])
        key = (rows.statement, names)
        try:
            prepared = self._prepared[key]
        except KeyError:
            prepared = self._prepared[key] = self._uow.prepared_write(*key)
        if prepared is None or any(tuple(params) != names for params in rows.params):
            return rows.execute(connection)
        prepared.run(connection, rows.params)
        return []


def _write_rows(connection: Connection, jobs: Sequence[_Job],
                send: Callable[[Connection, Rows], list[Any]]) -> None:
    """The ``run_rows`` writes of a group, each statement once for all of them, in
    an order that keeps every write's own order of statements; if their orders
    disagree (one writes A then B, another B then A), each write on its own."""
    for job in jobs:  # a group redone write by write starts each one afresh
        job.result = [[] for _ in job.parts]
    order = _statement_order(jobs)
    if order is None:
        for job in jobs:
            job.result = [send(connection, part) if part.params else []
                          for part in job.parts]
        return
    entries: dict[Executable, list[tuple[_Job, int]]] = {statement: [] for statement in order}
    for job in jobs:
        for index, part in enumerate(job.parts):
            if part.params:
                entries[part.statement].append((job, index))
    for statement, users in entries.items():
        returned = send(connection, Rows(
            statement, [p for job, index in users for p in job.parts[index].params]))
        if returned:
            values = iter(returned)
            for job, index in users:
                job.result[index] = [next(values) for _ in job.parts[index].params]


def _statement_order(jobs: Sequence[_Job]) -> list[Executable] | None:
    """The statements of ``jobs`` in an order that has each job's parts in its own
    order (first come first among equals), or None if there is none."""
    before: dict[Executable, list[Executable]] = {}
    for job in jobs:
        previous = None
        for part in job.parts:
            if not part.params:
                continue
            before.setdefault(part.statement, [])
            if previous is not None and previous is not part.statement:
                before[part.statement].append(previous)
            previous = part.statement
    try:
        return list(TopologicalSorter(before).static_order())
    except CycleError:
        return None

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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class _Ticket(Generic[T]):
    __slots__ = ("item", "wake", "lead", "error")

    def __init__(self, item: T) -> None:
        self.item = item
        self.wake = threading.Event()
        self.lead = False
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """``submit(item)`` returns once ``write`` has been called with a batch holding
    ``item`` and returned. ``write`` gets the items in the order they were submitted."""

    def __init__(self, write: Callable[[Sequence[T]], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._queue: list[_Ticket[T]] = []
        self._writing = False
        self.batches = 0  # writes made, for tests and benchmarks

    def submit(self, item: T) -> None:
        ticket = _Ticket(item)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._writing
            self._writing = True
        if not lead:
            ticket.wake.wait()
            if not ticket.lead:  # a leader wrote it
                if ticket.error is not None:
                    raise ticket.error
                return
        self._lead(ticket)

    def _lead(self, mine: _Ticket[T]) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        error: BaseException | None = None
        try:
            self._write([ticket.item for ticket in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            error = exc
        with self._lock:
            self.batches += 1
            if self._queue:  # arrived while writing: the oldest leads the next write
                successor = self._queue[0]
                successor.lead = True
                successor.wake.set()
            else:
                self._writing = False
        for ticket in batch:
            ticket.error = error
            if ticket is not mine:
                ticket.wake.set()
        if error is not None:
            raise error

"""One blocking read of the announcement stream per worker process, not one per idle
thread.

When a burst starts, most worker threads are idle. If each waits on Redis with a
blocking read of one announcement, each announcement that finds no busy thread costs
a round trip of its own (the read and the take sent together). With a
``SharedWakeup``, one idle thread of the process (the reader) waits on Redis for as
many announcements as there are idle threads, and its read takes them all in the
same round trip. It keeps the first and hands the others to the threads waiting
here, in the order they started waiting. Announcements that come while the reader
is busy handing out are read together by the next reader.

Coordination only: what a read is and what a claim holds belongs to the caller
(``InboxWorker``). A claim handed here holds its conversation's lock under the token
it was taken with, so it is handed with that token; a claim whose thread stopped
waiting (timed out as it was being handed) is kept as a spare for the next thread
that asks, so nothing is left behind. A spare still here when the workers stop is
not lost either: its lease runs out and its announcement, still pending, is
reclaimed by another worker after ``claim_idle``, as any of a worker that died.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: The most announcements one read takes.
MAX_READ = 64


@dataclass(frozen=True)
class Handed:
    """A claimed announcement (``InboxWorker``'s claim answer) and the token its
    conversation's lock was taken with."""

    claimed: Any
    token: str


@dataclass(frozen=True)
class Woke:
    """What ``SharedWakeup.wait`` gives back: a claim handed by the reader, or, to
    the thread that was the reader, what its read returned (``entries`` as
    ``read`` gave them and its own claim, if any); neither after a timeout."""

    handed: Handed | None = None
    was_reader: bool = False
    entries: Any = None


@dataclass(eq=False)
class _Waiting:
    #: Taken at creation; released once to wake the waiting thread.
    bell: threading.Lock = field(default_factory=threading.Lock)
    handed: Handed | None = None
    read_next: bool = False

    def __post_init__(self) -> None:
        self.bell.acquire()


#: ``read(tokens)``: one blocking read of up to ``len(tokens)`` announcements with
#: their takes; returns the read's entries and the claims taken, each with its token.
Read = Callable[[list[str]], tuple[Any, list[Handed]]]


class SharedWakeup:
    """Shared by the worker threads of one process (see the module docstring)."""

    def __init__(self, max_read: int = MAX_READ) -> None:
        if max_read < 1:
            raise ValueError("max_read must be at least 1")
        self._max_read = max_read
        self._mutex = threading.Lock()
        self._reading = False
        self._waiting: deque[_Waiting] = deque()
        self._spare: deque[Handed] = deque()

    def spare(self) -> Handed | None:
        """A claim read for a thread that had stopped waiting, if any."""
        if not self._spare:  # the common case, without the mutex
            return None
        with self._mutex:
            return self._spare.popleft() if self._spare else None

    def waiting(self) -> int:
        """Threads waiting for the reader (for tests and metrics)."""
        with self._mutex:
            return len(self._waiting)

    def wait(self, read: Read, timeout: float) -> Woke:
        """Become the reader and ``read``, or, while another thread is the reader,
        wait up to ``timeout`` seconds for a claim it hands over or for the turn to
        read."""
        with self._mutex:
            if not self._reading:
                self._reading = True
                place = None
            else:
                place = _Waiting()
                self._waiting.append(place)
        if place is not None:
            place.bell.acquire(timeout=timeout)
            with self._mutex:
                if place.handed is None and not place.read_next:
                    self._waiting.remove(place)  # timed out: nothing came
                    return Woke()
            if place.handed is not None:
                return Woke(handed=place.handed)
        return self._read(read)

    def _read(self, read: Read) -> Woke:
        with self._mutex:
            others = min(len(self._waiting), self._max_read - 1)
        tokens = [secrets.token_hex(16) for _ in range(1 + others)]
        try:
            entries, claims = read(tokens)
        except BaseException:
            with self._mutex:
                self._pass_reading()
            raise
        with self._mutex:
            for claim in claims[1:]:
                if self._waiting:
                    place = self._waiting.popleft()
                    place.handed = claim
                    place.bell.release()
                else:
                    self._spare.append(claim)
            self._pass_reading()
        return Woke(handed=claims[0] if claims else None, was_reader=True, entries=entries)

    def _pass_reading(self) -> None:
        """Give the turn to read to the thread that has waited longest, or end it.
        Called with the mutex held."""
        if self._waiting:
            place = self._waiting.popleft()
            place.read_next = True
            place.bell.release()
        else:
            self._reading = False

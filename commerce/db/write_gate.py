"""One SQLite writer at a time, queued by the operating system instead of polled.

SQLite lets one transaction write at a time. A writer that finds the lock taken
is parked by SQLite's busy handler, which *sleeps* (1, 2, 5, 10, 15, 20, 25 ...
ms) and tries again: it does not wake when the lock is freed. Under load, with
two worker processes writing a turn every millisecond or so, the writers spent
most of their time asleep in ``BEGIN IMMEDIATE`` while the lock was free (the
benchmark's wall-clock profile: four fifths of the time inside the shared write
was that sleep).

The gate puts writers in a queue that wakes the next one at once: a thread lock
within the process, then an advisory ``flock`` on a file beside the database
across processes (the kernel wakes the next waiter when it is released, and
frees it if its holder dies). Only then does the writer run ``BEGIN IMMEDIATE``,
which now normally finds the lock free. Writers that do not use the gate (the
``sqlite3`` shell, a migration run from another checkout) still meet SQLite's
busy timeout as before. Like PostgreSQL's default row and table locks, waiting
on the file lock has no timeout: a process that stops while writing holds the
others until it continues or exits.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from pathlib import Path


class WriteGate:
    """``enter()`` before a write transaction begins, ``leave()`` after it ended."""

    def __init__(self, lock_file: Path | None, wait_seconds: float) -> None:
        self._path = lock_file
        self._wait = wait_seconds
        self._lock = threading.Lock()
        self._fd: int | None = None
        # Held weakly: fork handlers cannot be removed, and a gate lives as long as
        # its engine, which tests create by the hundred.
        forget = weakref.WeakMethod(self._forget_parent)
        os.register_at_fork(after_in_child=lambda: (method := forget()) and method())

    def enter(self) -> None:
        if not self._lock.acquire(timeout=self._wait):
            raise TimeoutError(f"no SQL write slot within {self._wait:g} s in this process")
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise

    def leave(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def _forget_parent(self) -> None:
        """A forked child must not share the parent's open file (``flock`` belongs to
        the open file, so parent and child would count as one holder) or inherit a
        thread lock some parent thread held at the fork."""
        self._lock = threading.Lock()
        self._fd = None

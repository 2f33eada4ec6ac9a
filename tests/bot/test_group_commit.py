"""GroupCommit: concurrent writes batched, each caller back only once its item is written."""

from __future__ import annotations

import threading
import time

import pytest

from bot.group_commit import GroupCommit


def waiting_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_lone_caller_writes_its_item_at_once():
    written: list[list[int]] = []
    group = GroupCommit(lambda items: written.append(list(items)))
    group.submit(1)
    group.submit(2)
    assert written == [[1], [2]]


def test_items_arriving_during_a_write_are_written_together_and_nobody_returns_early():
    written: list[list[int]] = []
    first_started, release_first = threading.Event(), threading.Event()
    returned: dict[int, bool] = {}

    def write(items):
        if not written:
            first_started.set()
            assert release_first.wait(5)
        written.append(list(items))

    group = GroupCommit(write)

    def submit(n: int) -> None:
        group.submit(n)
        returned[n] = any(n in batch for batch in written)  # written before we came back

    leader = threading.Thread(target=submit, args=(0,))
    leader.start()
    assert first_started.wait(5)
    followers = [threading.Thread(target=submit, args=(n,)) for n in range(1, 9)]
    for thread in followers:
        thread.start()
    waiting_for(lambda: len(group._queue) == 8)  # all eight wait behind the first write
    release_first.set()
    for thread in [leader, *followers]:
        thread.join(5)
        assert not thread.is_alive()
    assert written[0] == [0]
    assert sorted(written[1]) == list(range(1, 9))  # one write for the eight that waited
    assert group.batches == 2
    assert returned == {n: True for n in range(9)}


def test_a_failed_write_fails_every_caller_of_that_batch_and_the_next_write_works():
    written: list[list[str]] = []
    gate = threading.Event()
    started = threading.Event()

    def write(items):
        if "slow" in items:
            started.set()
            assert gate.wait(5)
        if "bad" in items:
            raise RuntimeError("database is locked")
        written.append(list(items))

    group = GroupCommit(write)
    errors: dict[str, str] = {}

    def submit(item: str) -> None:
        try:
            group.submit(item)
        except RuntimeError as exc:
            errors[item] = str(exc)

    slow = threading.Thread(target=submit, args=("slow",))
    slow.start()
    assert started.wait(5)
    others = [threading.Thread(target=submit, args=(item,)) for item in ("bad", "good")]
    for thread in others:
        thread.start()
    waiting_for(lambda: len(group._queue) == 2)
    gate.set()
    for thread in [slow, *others]:
        thread.join(5)
        assert not thread.is_alive()
    assert written == [["slow"]]
    assert errors == {"bad": "database is locked", "good": "database is locked"}
    group.submit("later")
    assert written[-1] == ["later"]


def test_many_threads_each_see_their_own_item_written_exactly_once():
    written: list[int] = []
    lock = threading.Lock()

    def write(items):
        with lock:
            written.extend(items)

    group = GroupCommit(write)

    def work(base: int) -> None:
        for n in range(50):
            group.submit(base + n)

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
        assert not thread.is_alive()
    assert sorted(written) == sorted(k * 1000 + n for k in range(8) for n in range(50))
    assert group.batches <= len(written)


@pytest.mark.parametrize("failure", [KeyboardInterrupt, SystemExit])
def test_even_a_base_exception_reaches_the_caller(failure):
    def write(items):
        raise failure()

    with pytest.raises(failure):
        GroupCommit(write).submit(1)


class HeldFirstWrite:
    """A GroupCommit whose write of the batch holding "first" stays inside the write
    until ``release``; a batch holding "bad" fails. Records what each write got and
    what each caller submitted from a thread was raised."""

    def __init__(self) -> None:
        self.written: list[list[str]] = []
        self.errors: dict[str, str] = {}
        self.started, self._released = threading.Event(), threading.Event()
        self.group = GroupCommit(self._write)
        self._threads: list[threading.Thread] = []

    def _write(self, items) -> None:  # noqa: ANN001
        if "first" in items:
            self.started.set()
            assert self._released.wait(5)
        if "bad" in items:
            raise RuntimeError("disk I/O error")
        self.written.append(list(items))

    def submit_in_thread(self, item: str) -> None:
        def run() -> None:
            try:
                self.group.submit(item)
            except RuntimeError as exc:
                self.errors[item] = str(exc)

        thread = threading.Thread(target=run)
        thread.start()
        self._threads.append(thread)

    def release(self) -> None:
        self._released.set()
        for thread in self._threads:
            thread.join(5)
            assert not thread.is_alive()


def test_a_detached_item_waits_for_nobody_only_when_a_waiting_caller_will_write_it():
    held = HeldFirstWrite()
    group = held.group
    assert group.submit_detached("alone") is False  # nothing in progress: not queued
    assert not group.writing and held.written == []
    held.submit_in_thread("first")
    assert held.started.wait(5)
    # A write in progress, but nobody queued behind it to write the next group.
    assert group.submit_detached("no one behind") is False
    held.submit_in_thread("waiter")
    waiting_for(lambda: len(group._queue) == 1)
    assert group.submit_detached("rides along") is True  # back at once
    assert group._queue[-1].item == "rides along"
    held.release()
    assert held.written == [["first"], ["waiter", "rides along"]]
    assert not group.writing


def test_a_detached_item_in_a_failed_write_is_logged_and_the_waiter_gets_the_error(caplog):
    held = HeldFirstWrite()
    held.submit_in_thread("first")
    assert held.started.wait(5)
    held.submit_in_thread("waiter")
    waiting_for(lambda: len(held.group._queue) == 1)
    assert held.group.submit_detached("bad")
    held.release()
    assert held.errors == {"waiter": "disk I/O error"}
    assert "a write nobody waits for failed" in caplog.text
    held.group.submit("later")  # the group is usable again
    assert held.written[-1] == ["later"]

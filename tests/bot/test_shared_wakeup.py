"""SharedWakeup: one reader per process reads for every idle thread and hands out
what it read; the turn to read passes to the thread that waited longest."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from bot.shared_wakeup import Handed, SharedWakeup, Woke

WAIT = 5.0  # seconds: long enough never to expire in a test that expects a hand-over


def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


class Reader:
    """A read that blocks until released, then returns one claim per entry of
    ``answers`` (named by the test), each with the token it was given."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.tokens: list[list[str]] = []
        self.release = threading.Event()

    def __call__(self, tokens: list[str]) -> tuple[list, list[Handed]]:
        self.tokens.append(tokens)
        assert self.release.wait(WAIT)
        return [], [Handed(name, token) for name, token in zip(self.answers, tokens,
                                                                strict=False)]


def in_thread(wakeup: SharedWakeup, read, timeout: float = WAIT) -> dict:  # noqa: ANN001
    """``wakeup.wait`` on a thread of its own; the returned dict gets "woke"."""
    box: dict = {}

    def run() -> None:
        try:
            box["woke"] = wakeup.wait(read, timeout)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            box["error"] = error

    box["thread"] = threading.Thread(target=run, daemon=True)
    box["thread"].start()
    return box


def joined(box: dict) -> Woke:
    box["thread"].join(WAIT)
    assert not box["thread"].is_alive()
    if "error" in box:
        raise box["error"]
    return box["woke"]


def test_a_lone_thread_reads_one_announcement_itself():
    wakeup = SharedWakeup()
    read = Reader(["a"])
    read.release.set()
    woke = wakeup.wait(read, WAIT)
    assert woke.was_reader and woke.handed is not None
    assert len(read.tokens) == 1 and len(read.tokens[0]) == 1
    assert woke.handed == Handed("a", read.tokens[0][0])


def test_the_reader_reads_for_every_waiting_thread_and_hands_out_in_order():
    wakeup = SharedWakeup()
    holder = Reader([])  # holds the turn to read while the others line up
    first = in_thread(wakeup, holder)
    until(lambda: len(holder.tokens) == 1)
    read = Reader(["a", "b", "c"])
    read.release.set()
    second = in_thread(wakeup, read)
    until(lambda: wakeup.waiting() == 1)
    third = in_thread(wakeup, read)
    until(lambda: wakeup.waiting() == 2)
    fourth = in_thread(wakeup, read)
    until(lambda: wakeup.waiting() == 3)
    holder.release.set()  # read nothing: the turn passes to the longest waiting
    assert joined(first) == Woke(was_reader=True, entries=[])
    reader = joined(second)
    assert reader.was_reader
    tokens = read.tokens[0]
    assert len(tokens) == 3 and len(set(tokens)) == 3  # itself and the two waiting
    assert reader.handed == Handed("a", tokens[0])
    assert joined(third) == Woke(handed=Handed("b", tokens[1]))
    assert joined(fourth) == Woke(handed=Handed("c", tokens[2]))
    assert wakeup.waiting() == 0
    assert wakeup.spare() is None


def test_when_fewer_came_than_threads_wait_the_next_in_line_reads_again():
    wakeup = SharedWakeup()
    read = Reader(["a"])
    first = in_thread(wakeup, read)
    until(lambda: len(read.tokens) == 1)
    second = in_thread(wakeup, read)
    until(lambda: wakeup.waiting() == 1)
    read.release.set()
    assert joined(first).handed == Handed("a", read.tokens[0][0])
    again = joined(second)  # its turn to read: one more blocking read, its own
    assert again.was_reader and again.handed == Handed("a", read.tokens[1][0])
    assert len(read.tokens) == 2


def test_a_waiting_thread_gives_up_after_its_timeout_and_leaves_the_line():
    wakeup = SharedWakeup()
    holder = Reader([])
    first = in_thread(wakeup, holder)
    until(lambda: len(holder.tokens) == 1)
    assert wakeup.wait(Reader([]), 0.05) == Woke()
    assert wakeup.waiting() == 0
    holder.release.set()
    joined(first)
    # nobody reads now: the next thread becomes the reader at once
    read = Reader(["x"])
    read.release.set()
    assert wakeup.wait(read, WAIT).was_reader


def test_a_claim_read_for_a_thread_that_gave_up_is_kept_as_a_spare_once():
    wakeup = SharedWakeup()
    holder = Reader([])
    first = in_thread(wakeup, holder)
    until(lambda: len(holder.tokens) == 1)
    read = Reader(["mine", "late"])
    second = in_thread(wakeup, read)
    until(lambda: wakeup.waiting() == 1)
    impatient = in_thread(wakeup, read, timeout=0.2)
    until(lambda: wakeup.waiting() == 2)
    holder.release.set()
    joined(first)
    until(lambda: len(read.tokens) == 1)  # the second reads for itself and one more
    assert joined(impatient) == Woke()  # gave up while that read was under way
    read.release.set()
    assert joined(second).handed == Handed("mine", read.tokens[0][0])
    assert wakeup.spare() == Handed("late", read.tokens[0][1])
    assert wakeup.spare() is None


def test_a_failing_read_raises_and_passes_the_turn_to_the_next_in_line():
    wakeup = SharedWakeup()
    reading, broken = threading.Event(), threading.Event()

    def failing(tokens: list[str]) -> tuple[list, list[Handed]]:
        reading.set()
        assert broken.wait(WAIT)
        raise ConnectionError("redis went away")

    first = in_thread(wakeup, failing)
    assert reading.wait(WAIT)
    read = Reader(["a"])
    read.release.set()
    second = in_thread(wakeup, read)
    until(lambda: wakeup.waiting() == 1)
    broken.set()
    with pytest.raises(ConnectionError):
        joined(first)
    assert joined(second) == Woke(handed=Handed("a", read.tokens[0][0]), was_reader=True,
                                  entries=[])


def test_one_read_takes_at_most_max_read_announcements():
    wakeup = SharedWakeup(max_read=2)
    holder = Reader([])
    first = in_thread(wakeup, holder)
    until(lambda: len(holder.tokens) == 1)
    read = Reader([])
    read.release.set()
    waiting = [in_thread(wakeup, read, timeout=0.5) for _ in range(3)]
    until(lambda: wakeup.waiting() == 3)
    holder.release.set()
    joined(first)
    for box in waiting:
        joined(box)
    assert read.tokens and max(len(tokens) for tokens in read.tokens) == 2
    with pytest.raises(ValueError):
        SharedWakeup(max_read=0)

"""The JSON log line: the same fields and text as the straightforward formatter."""

from __future__ import annotations

import json
import logging
import os
import random
import sys
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from web.logging_setup import _STANDARD, JsonFormatter, request_id_var


def reference_line(record: logging.LogRecord, formatter: logging.Formatter) -> str:
    """What the formatter wrote before it was made cheaper (the spec of the line)."""
    data = {
        "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    request_id = request_id_var.get()
    if request_id:
        data["request_id"] = request_id
    data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
    if record.exc_info:
        data["exc"] = formatter.formatException(record.exc_info)
    return json.dumps(data, ensure_ascii=False, default=str)


def record(msg: str = "POST %s %s", args: tuple = ("/webhooks/line", 200), **extra: object
           ) -> logging.LogRecord:
    return logging.getLogger("chatcart.http").makeRecord(
        "chatcart.http", logging.INFO, __file__, 1, msg, args, None, extra=extra or None)


EDGES = [0.0, 1.0, 0.5e-6, 1.5e-6, 1779577200.0, 1779577200.9999995, 1779577200.9999994,
         1779577200.0000005, 1779577199.999999, 4102444799.999999]


def test_timestamps_are_datetime_isoformat_to_the_microsecond():
    formatter = JsonFormatter()
    rnd = random.Random(7)
    values = EDGES + [rnd.uniform(0, 4e9) for _ in range(20_000)]
    values += [1779577200 + n / 1e6 for n in range(0, 3_000_000, 997)]
    for value in values:
        expected = datetime.fromtimestamp(value, timezone.utc).isoformat()
        assert formatter._timestamp(value) == expected, value


@pytest.mark.parametrize("created", EDGES)
def test_whole_lines_match_the_reference(created):
    formatter = JsonFormatter()
    token = request_id_var.set("abcdef0123456789")
    try:
        plain = record()
        extras = record("付款 %s", ("完成",), ms=1.5, order="261123001", odd=object())
        try:
            raise ValueError("boom")
        except ValueError:
            failing = record("failed", ())
            failing.exc_info = sys.exc_info()
        for rec in (plain, extras, failing):
            rec.created = created
            assert formatter.format(rec) == reference_line(rec, formatter)
    finally:
        request_id_var.reset(token)
    outside = record()
    assert formatter.format(outside) == reference_line(outside, formatter)
    assert "request_id" not in json.loads(formatter.format(outside))


def test_extras_may_override_the_fixed_fields_as_before():
    rec = record(level="custom")
    assert json.loads(JsonFormatter().format(rec))["level"] == "custom"


def test_other_formats_still_print_the_process_and_thread_after_setup() -> None:
    """gunicorn's own lines (``[%(process)d]``) go through the same logging module in
    a web worker; its "Worker exiting" line once failed with a TypeError because
    setup switched process lookups off."""
    from web.logging_setup import setup_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging._srcfile)  # type: ignore[attr-defined]
    try:
        setup_logging(json_lines=True)
        line = logging.Formatter("[%(process)d] [%(thread)d] %(threadName)s %(message)s"
                                 ).format(logging.getLogger("gunicorn.error").makeRecord(
                                     "gunicorn.error", logging.INFO, "(unknown file)", 0,
                                     "Worker exiting (pid: %s)", (7,), None))
    finally:
        root.handlers[:], level, logging._srcfile = saved  # type: ignore[attr-defined]
        root.setLevel(level)
    assert line.startswith(f"[{os.getpid()}] [")
    assert line.endswith("Worker exiting (pid: 7)")


@contextmanager
def service_logging(path):
    """``setup_logging`` as a service runs it, its handler writing to ``path``; used
    inside a test, as pytest puts its own capture handlers in place for the test."""
    from web.logging_setup import setup_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging._srcfile)  # type: ignore[attr-defined]
    with open(path, "w", encoding="utf-8") as stream:
        setup_logging(json_lines=True)
        root.handlers[0].setStream(stream)
        try:
            yield path
        finally:
            root.handlers[:], level, logging._srcfile = saved  # type: ignore[attr-defined]
            root.setLevel(level)


def test_lines_from_many_threads_stay_whole_and_in_the_service_format(tmp_path):
    import threading
    import time as clock

    from web.logging_setup import log_access

    def write(n: int) -> None:
        token = request_id_var.set(f"thread-{n:04d}")
        for _ in range(200):
            log_access("POST", "/webhooks/line/" + "x" * 300, 200, clock.perf_counter())
            logging.getLogger("chatcart.other").info("between")  # through the handler
        request_id_var.reset(token)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    with service_logging(tmp_path / "service.log") as log:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    access = [line for line in lines if line["logger"] == "chatcart.http"]
    assert len(lines) == 3200 and len(access) == 1600
    assert list(access[0]) == ["ts", "level", "logger", "msg", "request_id", "ms"]
    assert sorted({line["request_id"] for line in access}) == [f"thread-{n:04d}" for n in range(8)]


def test_a_stream_without_a_file_descriptor_is_written_the_usual_way():
    import io

    from web.logging_setup import WholeLineHandler

    stream = io.StringIO()
    handler = WholeLineHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    assert handler.fd() is None
    assert handler.handle(record("hello %s", ("there",)))
    assert stream.getvalue() == "INFO hello there\n"

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
    from web import logging_setup

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging._srcfile,  # type: ignore[attr-defined]
             logging_setup._installed)
    try:
        logging_setup.setup_logging(json_lines=True)
        line = logging.Formatter("[%(process)d] [%(thread)d] %(threadName)s %(message)s"
                                 ).format(logging.getLogger("gunicorn.error").makeRecord(
                                     "gunicorn.error", logging.INFO, "(unknown file)", 0,
                                     "Worker exiting (pid: %s)", (7,), None))
    finally:
        (root.handlers[:], level, logging._srcfile,  # type: ignore[attr-defined]
         logging_setup._installed) = saved
        root.setLevel(level)
    assert line.startswith(f"[{os.getpid()}] [")
    assert line.endswith("Worker exiting (pid: 7)")


@contextmanager
def service_logging(path, *, json_lines: bool = True):
    """``setup_logging`` as a service runs it, its handler writing to ``path``; used
    inside a test, as pytest puts its own capture handlers in place for the test."""
    from web import logging_setup

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging._srcfile,  # type: ignore[attr-defined]
             logging_setup._installed)
    with open(path, "w", encoding="utf-8") as stream:
        logging_setup.setup_logging(json_lines=json_lines)
        root.handlers[0].setStream(stream)
        try:
            yield path
        finally:
            (root.handlers[:], level, logging._srcfile,  # type: ignore[attr-defined]
             logging_setup._installed) = saved
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


# The access line's fast path: while logging is as setup_logging leaves it,
# log_access writes the formatter's line without a LogRecord. Everything below pins
# that the line is the record's line and that any other setup gets the record.

ACCESS = logging.getLogger("chatcart.http")
NOW, CLOCK = 1779577200.25, 500.0  # time.time() and perf_counter() while pinned
STARTED = CLOCK - 0.01234  # 12.3 ms before


@pytest.fixture
def logging_state():
    """Puts back what these tests change in logging's global state."""
    from web import logging_setup

    root, parent = logging.getLogger(), logging.getLogger("chatcart")
    saved = (root.handlers[:], root.level, ACCESS.level, ACCESS.filters[:],
             ACCESS.handlers[:], ACCESS.propagate, parent.handlers[:],
             logging.getLogRecordFactory(), logging_setup._installed,
             logging._srcfile)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        (root.handlers[:], root_level, access_level, ACCESS.filters[:], ACCESS.handlers[:],
         ACCESS.propagate, parent.handlers[:], factory, logging_setup._installed,
         logging._srcfile) = saved  # type: ignore[attr-defined]
        root.setLevel(root_level)
        ACCESS.setLevel(access_level)
        logging.setLogRecordFactory(factory)


@pytest.fixture
def records_made(monkeypatch) -> list[str]:
    """The names of the loggers that made a record (``Logger._log``) in the test."""
    made: list[str] = []
    usual = logging.Logger._log

    def counting(self, *args, **kwargs):
        made.append(self.name)
        return usual(self, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, "_log", counting)
    return made


@pytest.fixture
def pinned_clocks(monkeypatch) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: NOW)
    monkeypatch.setattr(time, "perf_counter", lambda: CLOCK)


class Seen(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("formatter_class", ["JsonFormatter", "TextFormatter"])
@pytest.mark.parametrize("request_id", [None, "abcdef0123456789"])
@pytest.mark.parametrize("extra", [{}, {"ms": 12.3}, {"ms": 0.5, "order": "261123001"},
                                   {"level": "custom", "request_id": "theirs", "n": None}])
def test_a_formatters_line_is_the_text_it_formats_the_record_as(formatter_class, request_id,
                                                                 extra):
    from web import logging_setup

    formatter = getattr(logging_setup, formatter_class)()
    rec = record("%s %s %s", ("POST", "/orders/訂單\"7'", 200), **extra)
    token = request_id_var.set(request_id)
    try:
        for created in EDGES:
            rec.created = created
            line = formatter.line(created, rec.levelname, rec.name, rec.getMessage(), extra)
            assert line == formatter.format(rec)
    finally:
        request_id_var.reset(token)


@pytest.mark.parametrize("json_lines", [True, False])
@pytest.mark.parametrize("request_id", [None, "req-0001"])
@pytest.mark.parametrize("path", ["/webhooks/line", "/orders/訂單\"7'/pay"])
def test_the_fast_access_line_is_byte_for_byte_the_records_line(
        tmp_path, logging_state, records_made, pinned_clocks, json_lines, request_id, path):
    from web.logging_setup import log_access

    token = request_id_var.set(request_id)
    try:
        with service_logging(tmp_path / "service.log", json_lines=json_lines) as log:
            log_access("POST", path, 200, STARTED)
            assert records_made == []  # no record: the fast path
            ACCESS.addFilter(lambda r: True)  # any filter: the usual way from here
            log_access("POST", path, 200, STARTED)
            assert records_made == ["chatcart.http"]
    finally:
        request_id_var.reset(token)
    fast, usual = log.read_bytes().splitlines(keepends=True)
    assert fast == usual
    text = fast.decode()
    if json_lines:
        expected = {"ts": "2026-05-23T23:00:00.250000+00:00", "level": "info",
                    "logger": "chatcart.http", "msg": f"POST {path} 200", "ms": 12.3}
        if request_id:
            expected = {**dict(list(expected.items())[:4]), "request_id": request_id,
                        "ms": 12.3}
        assert list(json.loads(text).items()) == list(expected.items())
    else:
        rid = f" request_id={request_id}" if request_id else ""
        assert text == f"I chatcart.http: POST {path} 200 ms=12.3{rid}\n"


def _root_handler(handler, seen):
    logging.getLogger().addHandler(seen)


def _ancestor_handler(handler, seen):
    logging.getLogger("chatcart").addHandler(seen)


def _logger_filter(passes):
    return lambda handler, seen: ACCESS.addFilter(lambda r: seen.records.append(r) or passes)


def _handler_filter(passes):
    return lambda handler, seen: handler.addFilter(lambda r: seen.records.append(r) or passes)


def _record_factory(handler, seen):
    usual = logging.getLogRecordFactory()

    def tagged(*args, **kwargs):
        made = usual(*args, **kwargs)
        made.tag = "from-the-factory"
        seen.records.append(made)
        return made

    logging.setLogRecordFactory(tagged)


def _own_formatter(handler, seen):
    from web.logging_setup import JsonFormatter

    class Own(JsonFormatter):
        def format(self, record):
            seen.records.append(record)
            return super().format(record)

    handler.setFormatter(Own())


def _another_handler(handler, seen):
    from web.logging_setup import JsonFormatter, WholeLineHandler

    other = WholeLineHandler(handler.stream)
    other.setFormatter(JsonFormatter())
    other.addFilter(lambda r: seen.records.append(r) or True)
    logging.getLogger().handlers[:] = [other]


# (change to the setup, a record is made, the line is written, records the change saw)
FALLBACKS = {
    "another root handler": (_root_handler, True, True, 1),
    "a handler on chatcart": (_ancestor_handler, True, True, 1),
    "logger filter that passes": (_logger_filter(True), True, True, 1),
    "logger filter that drops": (_logger_filter(False), True, False, 1),
    "handler filter that passes": (_handler_filter(True), True, True, 1),
    "handler filter that drops": (_handler_filter(False), True, False, 1),
    "logger at WARNING": (lambda h, s: ACCESS.setLevel(logging.WARNING), False, False, 0),
    "logging.disable(INFO)": (lambda h, s: logging.disable(logging.INFO), False, False, 0),
    "handler at WARNING": (lambda h, s: h.setLevel(logging.WARNING), True, False, 0),
    "no propagation": (lambda h, s: setattr(ACCESS, "propagate", False), True, False, 0),
    "a record factory": (_record_factory, True, True, 1),
    "a formatter subclass": (_own_formatter, True, True, 1),
    "a handler setup_logging did not install": (_another_handler, True, True, 1),
}


@pytest.mark.parametrize("case", FALLBACKS)
def test_any_other_setup_gets_the_access_record_the_usual_way(
        tmp_path, logging_state, records_made, case):
    import time as clock

    from web.logging_setup import log_access

    change, recorded, written, seen_records = FALLBACKS[case]
    seen = Seen()
    with service_logging(tmp_path / "service.log") as log:
        change(logging.getLogger().handlers[0], seen)
        log_access("GET", "/readyz", 200, clock.perf_counter())
    assert records_made == (["chatcart.http"] if recorded else [])
    assert [r.getMessage() for r in seen.records] == ["GET /readyz 200"] * seen_records
    lines = log.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["msg"] for line in lines] == (["GET /readyz 200"] if written else [])
    if case == "a record factory":  # which is why a factory means the usual way
        assert json.loads(lines[0])["tag"] == "from-the-factory"


def test_caplog_gets_the_access_record_and_the_service_line_is_still_written(
        tmp_path, caplog, logging_state):
    import time as clock

    from web.logging_setup import log_access

    with service_logging(tmp_path / "service.log") as log:
        logging.getLogger().addHandler(caplog.handler)
        log_access("GET", "/readyz", 200, clock.perf_counter())
    [rec] = [r for r in caplog.records if r.name == "chatcart.http"]
    assert rec.getMessage() == "GET /readyz 200" and rec.ms >= 0
    assert json.loads(log.read_text(encoding="utf-8"))["msg"] == "GET /readyz 200"


def test_a_stream_without_a_descriptor_gets_the_access_line_the_usual_way(
        logging_state, records_made):
    import io
    import time as clock

    from web.logging_setup import log_access, setup_logging

    setup_logging(json_lines=False)
    stream = io.StringIO()
    logging.getLogger().handlers[0].setStream(stream)
    log_access("GET", "/readyz", 204, clock.perf_counter())
    assert records_made == ["chatcart.http"]
    assert stream.getvalue().startswith("I chatcart.http: GET /readyz 204 ms=")


def test_a_failed_write_is_reported_with_the_record_the_usual_way_reports(
        tmp_path, logging_state, records_made, pinned_clocks):
    from web.logging_setup import log_access

    reported: list[tuple[logging.LogRecord, BaseException | None]] = []
    (tmp_path / "read-only").write_bytes(b"")
    with service_logging(tmp_path / "service.log") as log, \
            open(tmp_path / "read-only", "rb") as read_only:
        handler = logging.getLogger().handlers[0]
        handler.setStream(read_only)  # a descriptor, but os.write fails (EBADF)
        handler.handleError = lambda r: reported.append((r, sys.exc_info()[1]))
        log_access("POST", "/webhooks/line", 200, STARTED)  # fast: does not raise
        assert records_made == []
        ACCESS.addFilter(lambda r: True)
        log_access("POST", "/webhooks/line", 200, STARTED)  # the usual way
        assert records_made == ["chatcart.http"]
    fast, usual = ((r.name, r.levelno, r.msg, r.args, r.ms, r.created, r.funcName,
                    r.pathname, type(error)) for r, error in reported)
    assert fast == usual
    assert fast[-1] is OSError and fast[4] == 12.3
    assert log.read_bytes() == b""

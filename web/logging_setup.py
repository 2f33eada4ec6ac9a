"""Structured logs: JSON lines when stderr is not a terminal (services, CI), short
readable lines for a person at a terminal. Each web request gets a request id that
every log line written while serving it carries."""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import secrets
import sys
import time
from collections.abc import Mapping

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


_access = logging.getLogger("chatcart.http")
_ACCESS_MSG = "%s %s %s"  # method, path, status: the record's msg and its args
#: The handler ``setup_logging`` put on the root logger. The access line skips the
#: log record only while this is still the one handler in its way (``_fast_handler``).
_installed: WholeLineHandler | None = None


def log_access(method: str, path: str, status: int, started: float) -> None:
    """The one access-log line of a request; ``started`` is its ``perf_counter()``.

    Every request writes one, the webhook's included, and under load the line cost
    about 10 % of a web worker's CPU (py-spy), mostly the ``LogRecord`` and the
    calls logging makes around it, not the text. So while logging is exactly as
    ``setup_logging`` left it (checked on every call, see ``_fast_handler``), the
    handler's formatter builds the line from the fields directly, the same text
    ``format`` gives for the record, and it is written as ``WholeLineHandler``
    writes any line. In any other setup (a test's ``caplog``, an operator's handler
    or filter, a level, ``logging.disable``) the record goes the usual way. Alone
    on one thread that is about 4 us a line instead of 7. Unlike the direct path
    that item 25 of docs/performance.md took out again, the layout is not written
    twice: ``format`` builds its text with the same ``line``.
    """
    ms = round((time.perf_counter() - started) * 1000, 1)
    handler = _fast_handler()
    fd = None if handler is None else handler.fd()
    if handler is None or fd is None:
        _access.info(_ACCESS_MSG, method, path, status, extra={"ms": ms})
        return
    formatter: JsonFormatter | TextFormatter = handler.formatter  # type: ignore[assignment]
    try:
        line = formatter.line(time.time(), logging.getLevelName(logging.INFO), _access.name,
                              _ACCESS_MSG % (method, path, status), {"ms": ms})
        _write_whole(fd, (line + handler.terminator).encode())
    except RecursionError:
        raise
    except Exception:  # noqa: BLE001 - logging's rule: report, never raise
        handler.handleError(_access.makeRecord(  # the record the usual way would make
            _access.name, logging.INFO, "(unknown file)", 0, _ACCESS_MSG,
            (method, path, status), None, "(unknown function)", {"ms": ms}))


def _fast_handler() -> WholeLineHandler | None:
    """The handler ``setup_logging`` installed while an access record would reach only
    it and it would write the record with this module's ``format``; else None. These
    are the checks logging itself makes on the way (``Logger.info``, ``Logger.handle``,
    ``Logger.callHandlers``, ``WholeLineHandler.handle``), plus that no record factory
    adds fields. Whether its stream has a file descriptor ``log_access`` asks next."""
    handler = _installed
    if (handler is None or not _access.isEnabledFor(logging.INFO)  # level, disable()
            or _access.filters or handler.filters or handler.level > logging.INFO
            or type(handler.formatter) not in (JsonFormatter, TextFormatter)
            or logging.getLogRecordFactory() is not logging.LogRecord):
        return None
    logger = _access
    while logger.parent is not None:  # every ancestor's handlers get the record
        if logger.handlers or not logger.propagate:
            return None
        logger = logger.parent
    handlers = logger.handlers  # the root's
    return handler if len(handlers) == 1 and handlers[0] is handler else None


def _write_whole(fd: int, line: bytes) -> None:
    """One line in one ``write``: the kernel does not interleave it with another
    thread's or process's write to the same file or pipe (pipes: up to 4 KiB)."""
    written = os.write(fd, line)
    while written < len(line):  # only a non-blocking pipe writes part of a line
        written += os.write(fd, line[written:])


class WholeLineHandler(logging.StreamHandler):
    """A stream handler that writes each record as one whole line with one
    ``os.write`` to the stream's file descriptor, formatted outside any lock.

    ``StreamHandler`` holds its lock around format, write and flush. Every web
    request writes an access line and every worker turn a flow line; under load,
    threads queued on that lock and the hand-offs cost several times what the lines
    themselves do (the access line: about 40 us per request with four threads, 8 us
    alone; docs/performance.md, item 25). A stream without a file descriptor (a
    test's ``StringIO``) is written the usual way, under the lock.
    """

    def fd(self) -> int | None:
        stream = self.stream
        try:
            stream.flush()  # whatever else was written to the stream goes out first
            return stream.fileno()
        except (AttributeError, OSError, ValueError):
            return None

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        if not self.filter(record):
            return False
        fd = self.fd()
        if fd is None:
            return bool(super().handle(record))
        try:
            _write_whole(fd, (self.format(record) + self.terminator).encode())
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - logging's rule: report, never raise
            self.handleError(record)
        return True


def request_id_for(incoming: str) -> str:
    """The id of a request: the caller's ``X-Request-Id`` when it is a sane one (8-64
    ASCII characters), so a proxy's id follows the request through our logs; else a
    new random one."""
    return incoming if 8 <= len(incoming) <= 64 and incoming.isascii() \
        else secrets.token_hex(8)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

# ``json.dumps`` with options builds a new encoder per call; one made once gives the
# same text. Every web request writes a line, so this is on the webhook's path.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the request id, extras.

    ``ts`` is exactly ``datetime.fromtimestamp(created, timezone.utc).isoformat()``,
    built from the date and time of the current second, formatted once per second.
    """

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")

    def _timestamp(self, created: float) -> str:
        frac, whole = math.modf(created)
        micros = round(frac * 1e6)  # half to even, as datetime.fromtimestamp rounds
        if micros >= 1_000_000:
            whole += 1
            micros -= 1_000_000
        elif micros < 0:
            whole -= 1
            micros += 1_000_000
        second = int(whole)
        cached = self._second  # one tuple, swapped whole: safe across threads
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        if micros:
            return f"{cached[1]}.{micros:06d}+00:00"
        return f"{cached[1]}+00:00"

    def line(self, created: float, levelname: str, name: str, message: str,
             extra: Mapping[str, object]) -> str:
        """The line ``format`` gives a record with these fields, ``extra`` as its
        attributes beyond the standard ones, and no exception (``log_access``)."""
        return _encode(self._fields(created, levelname, name, message, extra))

    def format(self, record: logging.LogRecord) -> str:
        data = self._fields(record.created, record.levelname, record.name,
                            record.getMessage(),
                            {k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return _encode(data)

    def _fields(self, created: float, levelname: str, name: str, message: str,
                extra: Mapping[str, object]) -> dict[str, object]:
        data: dict[str, object] = {
            "ts": self._timestamp(created),
            "level": levelname.lower(),
            "logger": name,
            "msg": message,
        }
        request_id = request_id_var.get()
        if request_id:
            data["request_id"] = request_id
        data.update(extra)  # extras may override the fields above, as they always could
        return data


class TextFormatter(logging.Formatter):
    def line(self, created: float, levelname: str, name: str, message: str,
             extra: Mapping[str, object]) -> str:
        """The line ``format`` gives a record with these fields, ``extra`` as its
        attributes beyond the standard ones, and no exception (``log_access``)."""
        base = f"{levelname[0]} {name}: {message}"
        request_id = request_id_var.get()
        if request_id:
            extra = {**extra, "request_id": request_id}
        if extra:
            base += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        return base

    def format(self, record: logging.LogRecord) -> str:
        base = self.line(record.created, record.levelname, record.name, record.getMessage(),
                         {k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return base


def setup_logging(level: str = "INFO", *, json_lines: bool | None = None) -> None:
    global _installed
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    handler = WholeLineHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    _installed = handler
    root.setLevel(level)
    # Neither format prints the source file or line, so records need not look the
    # caller up: that walks the stack on every record (the "Optimization" section of
    # the logging HOWTO names this switch). A record then says line 0 of
    # "(unknown file)", which any format can still print. The thread and process
    # switches stay on: they are cheap, and gunicorn's own format prints
    # ``%(process)d``, which fails on the None a switched-off record carries.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # transitions logs every callback it runs (several lines per chat message, with
    # function reprs); the flow engine logs one line per transition instead.
    logging.getLogger("transitions").setLevel(logging.WARNING)

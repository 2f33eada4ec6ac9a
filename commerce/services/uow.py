"""Unit of work: one SQL transaction per business action.

Services open a unit of work, change aggregates, and commit once; anything that
must happen after the change is durable (chat messages, for instance) is collected
in ``after_commit`` and run only when the commit succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable, Select

from commerce.db.engine import READ_ONLY
from commerce.db.prepared_read import PreparedRead
from commerce.db.prepared_write import PreparedWrite


@dataclass(frozen=True, slots=True)
class Rows:
    """A prebuilt statement with the parameter sets to run it with: a write a caller
    describes instead of making, so a writer can send the same statement of several
    callers as one (``bot.group_commit.SharedWrites.run_rows``)."""

    statement: Executable
    params: list[dict[str, Any]]

    def execute(self, session: Session | Connection) -> list[Any]:
        """Run it in ``session``; the first returned column of each row, if the
        statement returns rows, else an empty list."""
        result = session.execute(self.statement, self.params)
        return list(result.scalars().all()) if result.returns_rows else []


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A unit of work that only reads: on SQLite it takes no write lock, so
        readers never queue behind writers. Writing in it is a programming error."""
        session = self._factory()
        session.connection(execution_options={READ_ONLY: True})
        try:
            yield session
        finally:
            session.close()  # ends the transaction; loaded objects stay readable

    def prepared(self, statement: Select) -> PreparedRead:
        """``statement`` compiled once for this database, for a hot-path read of one
        row that skips SQLAlchemy's per-call machinery (``PreparedRead``)."""
        return PreparedRead(self._factory.kw["bind"], statement)

    def prepared_write(self, statement: Executable, keys: Sequence[str]) -> PreparedWrite | None:
        """``statement`` compiled once for this database and parameter sets with
        ``keys``, to send without SQLAlchemy's per-call machinery, or None when it
        needs that machinery (``PreparedWrite.for_statement``)."""
        return PreparedWrite.for_statement(statement, keys, self._factory.kw["bind"].dialect)

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A write transaction on a plain connection, committed when the block ends
        (rolled back if it raises): for prebuilt Core statements on the hot path
        (``bot.group_commit.SharedWrites``). It has no ``after_commit`` hooks."""
        with self._factory.kw["bind"].begin() as connection:
            yield connection

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        session = self._factory()
        hooks: list[Callable[[], None]] = []
        session.info["after_commit"] = hooks
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for hook in hooks:
            hook()


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run ``hook`` once the unit of work that owns ``session`` has committed."""
    session.info.setdefault("after_commit", []).append(hook)

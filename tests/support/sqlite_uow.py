"""A unit of work over a fresh SQLite file, for tests of the write path itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from commerce.db.engine import make_engine, make_session_factory
from commerce.services.uow import UnitOfWork


@contextmanager
def sqlite_uow(path: Path, *statements: str) -> Iterator[UnitOfWork]:
    """A ``UnitOfWork`` on a new database at ``path``, after ``statements`` ran."""
    engine = make_engine(f"sqlite:///{path}")
    work = UnitOfWork(make_session_factory(engine))
    with work() as session:
        for statement in statements:
            session.execute(text(statement))
    try:
        yield work
    finally:
        engine.dispose()

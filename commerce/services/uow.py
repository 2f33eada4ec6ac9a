"""Unit of work: one SQL transaction per business action.

Services open a unit of work, change aggregates, and commit once; anything that
must happen after the change is durable (chat messages, for instance) is collected
in ``after_commit`` and run only when the commit succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

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

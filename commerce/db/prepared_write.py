"""One INSERT or UPDATE compiled once and sent with ``executemany`` on the DBAPI
cursor of the caller's transaction.

The worker's shared writes (``bot.group_commit.SharedWrites``) send the same few
statements for every group of turns. Through ``Connection.execute`` a turn's
inbound message and the touch of its conversation took about 39 us of CPU in one
thread, sent this way about 11.5 us: the execution context, the compiled-cache
lookup, building each parameter set, the result's setup and the connection's
events are per call (docs/performance.md, item 36). ``PreparedWrite`` keeps what SQLAlchemy compiled
for the engine's dialect and the parameter names it was given (the SQL, the
parameter order, the values bound in the statement itself) and each bind's own
conversion for that dialect (``TypeEngine.dialect_impl(...).bind_processor``, as
``PreparedRead`` does), so the database receives the same values.

Only for statements that need none of what is skipped: no RETURNING, no
Python-side column defaults or onupdate values left for SQLAlchemy to fill in (the
caller passes every such column), no expanding parameters.
``PreparedWrite.for_statement`` says None for anything else, and the caller goes
the usual way. (An INSERT ... RETURNING sent row by row, to read each id back in
order, was tried: cheaper in one thread, dearer under load, where every row's
``execute`` gives up the GIL while the group holds SQLite's write lock; SQLAlchemy
sends one multi-row INSERT.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert, Update

from commerce.db.compiled_binds import CompiledBinds


class PreparedWrite:
    """``run(connection, rows)``: the statement once per parameter set, in one
    ``executemany``, inside ``connection``'s transaction."""

    def __init__(self, binds: CompiledBinds) -> None:
        self._binds = binds

    @classmethod
    def for_statement(cls, statement: Executable, keys: Sequence[str],
                      dialect: Dialect) -> PreparedWrite | None:
        """The statement compiled for parameter sets with exactly ``keys``, or None
        when it cannot be sent without SQLAlchemy's per-call work."""
        if not isinstance(statement, (Insert, Update)):
            return None
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if (compiled.effective_returning or compiled.insert_prefetch
                or compiled.update_prefetch or "POSTCOMPILE" in compiled.string):
            return None
        if set(keys) - set(compiled.binds):  # a key the statement does not use
            return None
        return cls(CompiledBinds.of(compiled, dialect))

    def run(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        sql = self._binds.sql
        sets = [self._binds.values(row) for row in rows]
        dbapi_error = connection.dialect.loaded_dbapi.Error
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(sql, sets)
        except dbapi_error as exc:  # as SQLAlchemy would raise it: IntegrityError, ...
            raise DBAPIError.instance(sql, sets, exc, dbapi_error) from exc
        finally:
            cursor.close()

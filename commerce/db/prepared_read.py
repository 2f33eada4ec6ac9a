"""One SELECT compiled once and run straight on a pooled DBAPI connection.

The inbox worker reads the conversation before every turn (one prebuilt SELECT,
``ConversationService.open_inbound``). Through ``Connection.execute`` that read
cost about 65 us in one thread where the same SQL on the same SQLite file costs
about 7 us: the execution context, the compiled-cache lookup, building the
parameters, the result's metadata and the connection's events are per call, and
under load they were about a tenth of a worker's CPU (docs/performance.md, item
30). ``PreparedRead`` keeps what SQLAlchemy compiled for the engine's dialect
(the SQL, the parameter order, the literal values bound in the statement) and
each column type's own bind and result conversions for that dialect (SQLAlchemy's
public ``TypeEngine.dialect_impl``, ``bind_processor`` and ``result_processor``),
so a row holds the same values ``Connection.execute`` would give (aware datetimes,
JSON, booleans).

Only for reads that need none of what is skipped: no ORM, no engine events
(SQLite's write gate is for writes), one statement. On SQLite our connections are
in autocommit (``commerce.db.engine``), so the SELECT is its own transaction; on
PostgreSQL the pool rolls back the read's implicit transaction when the connection
goes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import Select

from commerce.db.compiled_binds import CompiledBinds, Processor


class PreparedRead:
    """``first(params)``: the first row of ``statement`` for ``params`` as a tuple in
    the order of its selected columns, or None."""

    def __init__(self, engine: Engine, statement: Select) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("a statement with expanding parameters (IN lists) cannot be "
                             "prepared once: its SQL depends on the values")
        self._engine = engine
        self._binds = CompiledBinds.of(compiled, dialect)
        self._from_db: list[Processor | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns]

    def first(self, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        values = self._binds.values(params)
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._binds.sql, values)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool (which ends a PostgreSQL read)
        if row is None:
            return None
        return tuple(value if process is None else process(value)
                     for process, value in zip(self._from_db, row, strict=True))

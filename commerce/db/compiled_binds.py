"""What a statement compiled once needs to be sent again on a DBAPI cursor.

``PreparedRead`` and ``PreparedWrite`` skip SQLAlchemy's per-call machinery on the
hot path; both keep the same things from the compiled statement: the SQL, the order
of its parameters (for a positional paramstyle such as SQLite's ``?``), the values
bound in the statement itself, and each bind's own conversion for the dialect
(SQLAlchemy's public ``TypeEngine.dialect_impl(...).bind_processor``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.engine import Compiled

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class CompiledBinds:
    sql: str
    #: Parameter names in placeholder order, or None for a named paramstyle.
    order: tuple[str, ...] | None
    #: The values bound in the statement itself (``kind == "in"``), under the names
    #: the compiler gave them; the caller's names are added per call.
    bound: dict[str, Any]
    to_db: dict[str, Processor]

    @classmethod
    def of(cls, compiled: Compiled, dialect: Dialect) -> CompiledBinds:
        to_db: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                to_db[name] = process
        return cls(compiled.string,
                   tuple(compiled.positiontup or ()) if compiled.positional else None,
                   {name: bind.effective_value for name, bind in compiled.binds.items()
                    if not bind.required},
                   to_db)

    def values(self, params: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The parameters for the cursor: the statement's own values and ``params``,
        each converted for the database, in placeholder order when positional."""
        values = {**self.bound, **params}
        for name, process in self.to_db.items():
            values[name] = process(values[name])
        return values if self.order is None else [values[name] for name in self.order]

"""Engine and session factories.

SQLite is the default store for small shops, so it gets WAL (readers do not block
the writer), a busy timeout (concurrent workers wait instead of failing with
"database is locked") and enforced foreign keys. Other databases come from
``DATABASE_URL`` unchanged.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from commerce.db.write_gate import WriteGate

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Execution option marking a connection whose transaction only reads.
READ_ONLY = "chatcart_read_only"
_GATED = "chatcart_write_gate"


#: A worker process runs 32 threads plus its sweepers, which may all read at once.
_FILE_POOL = {"pool_size": 40, "max_overflow": 20}


def _is_file(url: str) -> bool:
    database = make_url(url).database
    return bool(database) and database != ":memory:"


def _prepare_sqlite_file(url: str) -> None:
    if _is_file(url):
        Path(make_url(url).database).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL, busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **(_FILE_POOL if _is_file(url) else {}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            # Let SQLAlchemy control transactions: pysqlite's own BEGIN handling
            # would otherwise defer locks and break "BEGIN IMMEDIATE" semantics.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        gate = WriteGate(Path(f"{make_url(url).database}.writelock") if _is_file(url) else None,
                         SQLITE_BUSY_TIMEOUT_MS / 1000)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # noqa: ANN001
            # Writers take the write lock at the start: two writers then queue
            # instead of one failing on lock upgrade mid-way; they queue at the
            # gate (see write_gate), which wakes the next at once. Read-only units
            # of work (see UnitOfWork.read) need no lock in WAL mode.
            options = conn.get_execution_options()
            if options.get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            gate.enter()
            conn.info[_GATED] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                conn.info.pop(_GATED, None)
                gate.leave()
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_end(conn) -> None:  # noqa: ANN001
            if conn.info.pop(_GATED, None):
                gate.leave()

        @event.listens_for(engine, "checkin")
        def _sqlite_checkin(_dbapi_conn, record) -> None:  # noqa: ANN001
            # A connection going back to the pool never keeps the gate, even if its
            # transaction ended without a commit or rollback event.
            if record.info.pop(_GATED, None):
                gate.leave()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)

"""PreparedWrite leaves the database exactly as Connection.execute does, with the same
type conversions, on a real SQLite file (PostgreSQL: tests/commerce/test_postgres.py);
statements it cannot send as compiled are refused, so the caller goes the usual way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from commerce.db.base import UTCDateTime
from commerce.db.engine import make_engine
from commerce.db.prepared_write import PreparedWrite

META = sa.MetaData()
THINGS = sa.Table(
    "things", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40)),
    sa.Column("kind", sa.String(10)),
    sa.Column("count", sa.Integer, default=0),
    sa.Column("seen_at", UTCDateTime),
    sa.Column("payload", sa.JSON),
    sa.Column("flag", sa.Boolean),
)
T0 = datetime(2026, 11, 24, 5, 30, 15, 123456, tzinfo=timezone.utc)

#: An UPDATE with a literal, an expression on the old value, a bind used twice in
#: a CASE and typed binds: the shape of the worker's touch of a conversation.
_AT = sa.bindparam("at", type_=UTCDateTime())
TOUCH = (sa.update(THINGS).where(THINGS.c.id == sa.bindparam("row"))
         .values(kind="seen", count=THINGS.c.count + 1, flag=sa.bindparam("now_flag"),
                 seen_at=sa.case((sa.or_(THINGS.c.seen_at.is_(None), THINGS.c.seen_at < _AT),
                                  _AT), else_=THINGS.c.seen_at)))
INSERT = sa.insert(THINGS)
ROWS = [{"name": "茶", "kind": "in", "count": 2, "seen_at": T0,
         "payload": {"lines": [1, 2], "note": "週五出貨"}, "flag": True},
        {"name": "杯", "kind": "out", "count": 0, "seen_at": None, "payload": None,
         "flag": None}]


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'prepared.sqlite3'}")
    META.create_all(engine)
    yield engine
    engine.dispose()


def table(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row)[1:] for row in conn.execute(sa.select(THINGS).order_by(THINGS.c.id))]


def run_both_ways(engine: sa.Engine, statement, params: list[dict]) -> tuple[list, list]:
    """The table after ``statement`` through Connection.execute, then, from the same
    start, through PreparedWrite."""
    def reset() -> None:
        with engine.begin() as conn:
            conn.execute(sa.delete(THINGS))
            conn.execute(INSERT, [{"id": n + 1, **row} for n, row in enumerate(ROWS)])

    reset()
    with engine.begin() as conn:
        conn.execute(statement, params)
    expected = table(engine)
    reset()
    prepared = PreparedWrite.for_statement(statement, list(params[0]), engine.dialect)
    assert prepared is not None
    with engine.begin() as conn:
        prepared.run(conn, params)
    return expected, table(engine)


def test_an_update_matches_connection_execute(engine):
    params = [{"row": 1, "at": T0 + timedelta(seconds=1), "now_flag": False},
              {"row": 2, "at": T0 - timedelta(days=1), "now_flag": True}]
    expected, got = run_both_ways(engine, TOUCH, params)
    assert got == expected
    assert got[0][1:4] == ("seen", 3, T0 + timedelta(seconds=1))  # the CASE took the newer


def test_an_insert_with_every_column_matches_connection_execute(engine):
    params = [{"name": "盤", "kind": "in", "count": 5, "seen_at": T0,
               "payload": {"a": [1, "二"]}, "flag": False},
              {"name": "碗", "kind": "out", "count": 1, "seen_at": None, "payload": None,
               "flag": True}]
    expected, got = run_both_ways(engine, INSERT, params)
    assert got == expected
    assert got[2] == ("盤", "in", 5, T0, {"a": [1, "二"]}, False)


def test_it_writes_inside_the_callers_transaction(engine):
    prepared = PreparedWrite.for_statement(TOUCH, ["row", "at", "now_flag"], engine.dialect)
    with engine.begin() as conn:
        conn.execute(INSERT, [{"id": 1, **ROWS[0]}])
    with pytest.raises(RuntimeError), engine.begin() as conn:
        prepared.run(conn, [{"row": 1, "at": T0 + timedelta(hours=1), "now_flag": False}])
        raise RuntimeError("the caller's transaction fails after the write")
    assert table(engine)[0][1:4] == ("in", 2, T0)  # rolled back with it


def test_a_database_error_is_raised_as_sqlalchemy_raises_it(engine):
    prepared = PreparedWrite.for_statement(INSERT, ["id", "name", "count"], engine.dialect)
    with engine.begin() as conn:
        conn.execute(INSERT, [{"id": 1, "name": "茶", "count": 0}])
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"), engine.begin() as conn:
        prepared.run(conn, [{"id": 2, "name": "杯", "count": 0},
                            {"id": 1, "name": "盤", "count": 0}])
    assert [row[0] for row in table(engine)] == ["茶"]  # the whole executemany undone


ALL_KEYS = ["name", "kind", "count", "seen_at", "payload", "flag"]


@pytest.mark.parametrize("statement, keys", [
    (sa.insert(THINGS).returning(THINGS.c.id), ALL_KEYS),  # rows to give back
    (sa.insert(THINGS), ["name"]),  # "count" left to its Python-side default
    (sa.update(THINGS).where(THINGS.c.id.in_(sa.bindparam("ids", expanding=True)))
     .values(kind="x"), ["ids"]),  # SQL that depends on the values
    (sa.select(THINGS), []),  # not a write
])
def test_statements_that_need_sqlalchemys_work_are_refused(engine, statement, keys):
    assert PreparedWrite.for_statement(statement, keys, engine.dialect) is None

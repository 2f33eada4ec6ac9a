"""PreparedRead gives the row Connection.execute gives, converted by the same column
types, on a real SQLite file (PostgreSQL: tests/commerce/test_postgres.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from commerce.db.base import UTCDateTime
from commerce.db.engine import make_engine
from commerce.db.prepared_read import PreparedRead

META = sa.MetaData()
THINGS = sa.Table(
    "things", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40)),
    sa.Column("kind", sa.String(10)),
    sa.Column("seen_at", UTCDateTime),
    sa.Column("payload", sa.JSON),
    sa.Column("flag", sa.Boolean),
)
T0 = datetime(2026, 11, 24, 5, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'prepared.sqlite3'}")
    META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(THINGS), [
            {"id": 1, "name": "茶", "kind": "in", "seen_at": T0,
             "payload": {"lines": [1, 2], "note": "週五出貨"}, "flag": True},
            {"id": 2, "name": "茶", "kind": "out", "seen_at": None, "payload": None,
             "flag": False},
            {"id": 3, "name": "杯", "kind": "in", "seen_at": T0 + timedelta(hours=1),
             "payload": [], "flag": None},
        ])
    yield engine
    engine.dispose()


def by_name_and_kind() -> sa.Select:
    """A literal bound in the statement (kind) and a subquery, as open_inbound has."""
    newer = (sa.select(sa.func.count()).where(THINGS.c.seen_at > sa.bindparam("after"))
             .scalar_subquery())
    return (sa.select(*THINGS.c, newer.label("newer"))
            .where(THINGS.c.name == sa.bindparam("name"), THINGS.c.kind == "in"))


@pytest.mark.parametrize("name", ["茶", "杯", "無"])
def test_the_row_is_the_one_connection_execute_gives(engine, name):
    statement = by_name_and_kind()
    params = {"name": name, "after": T0 - timedelta(minutes=1)}
    with engine.connect() as conn:
        expected = conn.execute(statement, params).first()
    got = PreparedRead(engine, statement).first(params)
    if expected is None:
        assert got is None
        return
    assert got == tuple(expected)
    # The values are converted, not the database's text: aware datetimes, JSON, bools.
    assert got[3] is None or got[3].tzinfo is not None


def test_converted_values_for_a_full_row(engine):
    got = PreparedRead(engine, by_name_and_kind()).first({"name": "茶", "after": T0})
    assert got == (1, "茶", "in", T0, {"lines": [1, 2], "note": "週五出貨"}, True, 1)


def test_the_literal_in_the_statement_is_kept(engine):
    """Row 2 is named 茶 too but is ``out``: only the ``in`` row comes back."""
    read = PreparedRead(engine, by_name_and_kind())
    assert read.first({"name": "茶", "after": T0})[0] == 1
    with engine.begin() as conn:
        conn.execute(sa.delete(THINGS).where(THINGS.c.id == 1))
    assert read.first({"name": "茶", "after": T0}) is None  # and each call reads afresh


def test_an_aware_parameter_goes_through_its_types_bind_conversion(engine):
    """``after`` in another zone still compares as the same instant."""
    taipei = timezone(timedelta(hours=8))
    read = PreparedRead(engine, by_name_and_kind())
    assert read.first({"name": "杯", "after": (T0 + timedelta(minutes=30)).astimezone(taipei)}
                      )[-1] == 1
    with pytest.raises(ValueError, match="naive"):
        read.first({"name": "杯", "after": T0.replace(tzinfo=None)})  # naive: refused


def test_a_missing_parameter_is_an_error_not_a_null(engine):
    with pytest.raises(KeyError):
        PreparedRead(engine, by_name_and_kind()).first({"name": "茶"})


def test_a_statement_whose_sql_depends_on_its_values_is_refused(engine):
    with pytest.raises(ValueError, match="expanding"):
        PreparedRead(engine, sa.select(THINGS.c.id).where(
            THINGS.c.id.in_(sa.bindparam("ids", expanding=True))))


def test_connections_go_back_to_the_pool(engine):
    read = PreparedRead(engine, by_name_and_kind())
    for _ in range(50):
        read.first({"name": "茶", "after": T0})
    assert engine.pool.checkedout() == 0

"""The same schema and the key business actions on a real PostgreSQL server,
because operators set DATABASE_URL to PostgreSQL in production."""

import threading

import pytest

from tests.support.postgres import pg_bin, private_postgres

psycopg = pytest.importorskip("psycopg")
pytestmark = pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed")


@pytest.fixture(scope="module")
def postgres_url():
    with private_postgres() as url:
        yield url


@pytest.fixture
def pg_shop(postgres_url, app_config, tmp_path):
    from sqlalchemy import text

    from commerce.db.engine import make_engine
    from commerce.db.migrations import upgrade
    from commerce.demo import seed_demo
    from web.bootstrap import bootstrap
    from web.environment import load_environment

    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    upgrade(postgres_url)
    env = load_environment({"DATABASE_URL": postgres_url, "CHATCART_SECRET_KEY": "k"},
                           var_dir=tmp_path)
    built = bootstrap(app_config, env)
    seed_demo(built.catalog, built.customers)
    yield built
    built.close()


def test_migrations_match_the_models_on_postgres(pg_shop):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from commerce.db.models import metadata

    with pg_shop.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_order_lifecycle_and_numbers_on_postgres(pg_shop):
    from commerce.order_status import OrderStatus
    from commerce.services.order_requests import LineRequest, OrderRequest

    customer = pg_shop.customers.find_by_contact("0912345678")
    request = OrderRequest(customer_id=customer, delivery_method="711",
                           payment_method="transfer", lines=(LineRequest("TEA-RUBY", 2),))
    first = pg_shop.orders.create(request, actor="m")
    second = pg_shop.orders.create(request, actor="m")
    assert int(second.number) == int(first.number) + 1
    pg_shop.orders.send(first.number, actor="m")
    assert pg_shop.orders.confirm(first.number, actor="c").order.status \
        is OrderStatus.AWAITING_PAYMENT
    assert pg_shop.orders.cancel(second.number, actor="m").changed
    assert pg_shop.catalog.variant_by_sku("TEA-RUBY").stock == 23


def test_concurrent_orders_never_oversell_on_postgres(pg_shop):
    from commerce.errors import OutOfStock
    from commerce.services.order_requests import LineRequest, OrderRequest

    customer = pg_shop.customers.find_by_contact("0912345678")
    request = OrderRequest(customer_id=customer, delivery_method="711",
                           payment_method="transfer", lines=(LineRequest("MUG-SAND", 1),))
    results: list[str] = []
    barrier = threading.Barrier(8)

    def buy():
        barrier.wait()
        try:
            pg_shop.orders.create(request, actor="m")
            results.append("ok")
        except OutOfStock:
            results.append("out")

    threads = [threading.Thread(target=buy) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count("ok") == 6 and results.count("out") == 2
    assert pg_shop.catalog.variant_by_sku("MUG-SAND").stock == 0


def test_the_read_before_each_turn_on_postgres(pg_shop):
    """``open_inbound`` runs its prepared SQL on psycopg's connection (named
    parameters, native types) and gives what it gives on SQLite."""
    from datetime import datetime, timedelta, timezone

    from commerce.identity import ConversationKey

    conversations = pg_shop.conversations
    key = ConversationKey("line", "main", "U" + "b" * 32)
    conv = conversations.ensure(key, "Amy")
    at = datetime(2026, 11, 24, 5, 0, tzinfo=timezone.utc)
    start = conversations.open_inbound(key, "ev-1", at)
    assert (start.conversation.id, start.seen, start.handled, start.has_held) == \
        (conv.id, None, False, False)
    recorded = conversations.record_inbound(conv.id, event_id="ev-1", kind="text",
                                            text="你好", at=at)
    again = conversations.open_inbound(key, "ev-1", at - timedelta(minutes=5))
    assert again.seen == recorded.message_id and not again.handled
    assert again.conversation.display_name == "Amy"
    assert again.conversation.last_inbound_at == at  # aware, read back from the row
    assert again.conversation.last_inbound_at.tzinfo is not None
    assert conversations.open_inbound(key, "ev-2", at).seen is None


def test_a_turns_shared_writes_on_postgres(pg_shop, redis_url):
    """The writes of a turn and the sent mark through ``SharedWrites``: on PostgreSQL
    the updates go out compiled once (``PreparedWrite``, named parameters) and the
    inserts through SQLAlchemy, in one transaction per group."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    from bot.messages import Text
    from bot.outbox import OutboundBatch, Outbox
    from commerce.identity import ConversationKey
    from flows.keys import KeyBuilder
    from flows.redis_client import make_redis

    conversations = pg_shop.conversations
    conv = conversations.ensure(ConversationKey("line", "main", "U" + "c" * 32), "Bo")
    at = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
    client = make_redis(redis_url)
    outbox = Outbox(pg_shop.uow, client, KeyBuilder("pgtest"))
    batch = OutboundBatch(conv.id, (Text("您好"), Text("歡迎光臨")))
    parts = conversations.handled_parts(conv.id, event_id="ev-pg", kind="text",
                                        text="hi", at=at)
    *_, ids = outbox.writes.run_rows(*parts, outbox.rows([batch]))
    assert len(ids) == 2 and ids[0] < ids[1]
    outbox.mark_sent([(ids, ["m1", "m2"])])
    client.close()
    with pg_shop.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT direction, status, platform_message_id, text FROM chat_messages "
            "WHERE conversation_id = :c ORDER BY id"), {"c": conv.id}).all()
        unread, last = conn.execute(text(
            "SELECT unread, last_inbound_at FROM conversations WHERE id = :c"),
            {"c": conv.id}).one()
    assert [tuple(r) for r in rows] == [("in", "handled", None, "hi"),
                                        ("out", "sent", "m1", "您好"),
                                        ("out", "sent", "m2", "歡迎光臨")]
    assert unread == 1 and last == at

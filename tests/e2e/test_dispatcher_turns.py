"""One dispatcher turn as it lands in SQL: the customer's message and the replies
are written together, a failed turn still keeps the message, and a handled event
handled again changes nothing. Real HTTP from the sandbox, a real Redis and
SQLite; the worker is run by hand so each attempt can be looked at."""

from __future__ import annotations

import pytest

from bot.routing import EchoRouter, InboundContext, Reply
from tests.support.chat_story import conversation, texts
from tests.support.live_shop import start_live_shop, wait_until

pytestmark = pytest.mark.slow


class FailingFirst:
    """Echoes, but raises on the first ``failures`` events it is asked about."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.echo = EchoRouter()

    def route(self, ctx: InboundContext) -> list[Reply]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("router bug")
        return self.echo.route(ctx)


@pytest.fixture
def quiet_shop(app_config, environment, redis_url):
    router = FailingFirst(0)
    shop = start_live_shop(app_config, environment, redis_url, workers=0,
                           configure=lambda c: c.extras.update(router=router))
    shop.router = router
    yield shop
    shop.stop()


def rows(shop, person) -> list[tuple[str, str, str]]:
    history = shop.container.conversations.history(conversation(shop, person).id)
    return [(m.direction, m.text, m.status) for m in history]


def test_a_turn_writes_the_message_as_handled_with_its_reply(quiet_shop):
    worker = quiet_shop.container.chat.worker("t1", block_ms=10)
    amy = quiet_shop.customer("Amy")
    amy.says("請問有貨嗎")
    assert worker.run_once() == 1
    wait_until(lambda: texts(amy) == ["收到：請問有貨嗎"], message="the echo")
    assert rows(quiet_shop, amy) == [("in", "請問有貨嗎", "handled"),
                                     ("out", "收到：請問有貨嗎", "sent")]
    view = conversation(quiet_shop, amy)
    assert view.last_inbound_at is not None and view.display_name


def test_a_failed_turn_keeps_the_message_and_the_retry_answers_once(quiet_shop):
    quiet_shop.router.failures = 1
    worker = quiet_shop.container.chat.worker("t1", block_ms=10, claim_idle_ms=0)
    amy = quiet_shop.customer("Amy")
    amy.says("在嗎")
    with pytest.raises(RuntimeError, match="router bug"):
        worker.run_once()
    assert rows(quiet_shop, amy) == [("in", "在嗎", "received")]
    assert texts(amy) == []
    assert worker.run_once() == 1  # the announcement is taken over again
    wait_until(lambda: texts(amy) == ["收到：在嗎"], message="one echo")
    assert rows(quiet_shop, amy) == [("in", "在嗎", "handled"), ("out", "收到：在嗎", "sent")]
    assert conversation(quiet_shop, amy).last_inbound_at is not None


def test_an_event_handled_again_adds_nothing(quiet_shop):
    amy = quiet_shop.customer("Amy")
    captured = []
    dispatcher = quiet_shop.container.chat.dispatcher
    original = dispatcher.handle

    def capture(event):
        captured.append(event)
        original(event)

    worker = quiet_shop.container.chat.worker("t1", block_ms=10)
    worker._handler = capture
    amy.says("hello")
    assert worker.run_once() == 1
    wait_until(lambda: len(texts(amy)) == 1, message="the echo")
    dispatcher.handle(captured[0])  # e.g. a worker that died before taking it off
    assert rows(quiet_shop, amy) == [("in", "hello", "handled"), ("out", "收到：hello", "sent")]
    assert texts(amy) == ["收到：hello"]


def test_a_returning_customers_turn_is_one_read_and_two_writes(quiet_shop):
    """The shape that keeps SQLite's one write lock free most of the time: read
    before the turn (one SELECT, no transaction of its own), write the event with
    its replies, mark them sent. Counted from the SQL SQLite itself ran, since the
    read bypasses SQLAlchemy's events (``PreparedRead``)."""
    from sqlalchemy import event as sql_event

    worker = quiet_shop.container.chat.worker("t1", block_ms=10)
    amy = quiet_shop.customer("Amy")
    amy.says("第一次")  # first contact: creates the conversation, asks for the name
    assert worker.run_once() == 1
    wait_until(lambda: len(texts(amy)) == 1, message="the first echo")
    ran: list[str] = []
    traced: list = []

    def on_checkout(dbapi_connection, _record, _proxy):  # noqa: ANN001
        dbapi_connection.set_trace_callback(lambda sql: ran.append(sql.split()[0].upper()))
        traced.append(dbapi_connection)

    pool = quiet_shop.container.engine.pool
    sql_event.listen(pool, "checkout", on_checkout)
    try:
        amy.says("第二次")
        assert worker.run_once() == 1
    finally:
        sql_event.remove(pool, "checkout", on_checkout)
        for connection in traced:
            connection.set_trace_callback(None)
    wait_until(lambda: len(texts(amy)) == 2, message="the second echo")
    transactions, depth, outside = [], 0, []
    for verb in ran:
        if verb == "BEGIN":
            depth = 1
            transactions.append([])
        elif verb in ("COMMIT", "ROLLBACK"):
            depth = 0
        elif depth:
            transactions[-1].append(verb)
        else:
            outside.append(verb)
    assert outside == ["SELECT"]  # the one read, its own statement
    assert len(transactions) == 2  # the event with its replies; the sent mark
    assert transactions[1] == ["UPDATE"]
    assert "SELECT" not in transactions[0]


def test_only_the_first_attempt_uses_the_reply_token_and_retries_push_with_one_key(quiet_shop):
    """The reply fails, so part 0 is pushed; that push fails too and is retried. The
    retry must not go back to the (still young) reply token: the first push may have
    reached LINE, and only pushing again with the same retry key lets LINE drop it."""
    from bot.sandbox import FaultRule

    faults = quiet_shop.emulator.faults
    faults.add(FaultRule(channel="line", endpoint="reply", status=500))
    faults.add(FaultRule(channel="line", endpoint="push", status=503, retry_after=1))
    worker = quiet_shop.container.chat.worker("t1", block_ms=10)
    amy = quiet_shop.customer("Amy")
    amy.says("在嗎")
    assert worker.run_once() == 1
    wait_until(lambda: texts(amy) == ["收到：在嗎"], message="one echo")
    sent = [(c.endpoint, c.status) for c in quiet_shop.emulator.calls("line")
            if c.endpoint in ("reply", "push")]
    assert sent == [("reply", 500), ("push", 503), ("push", 200)]
    keys = {c.retry_key for c in quiet_shop.emulator.calls("line", "push")}
    assert len(keys) == 1 and None not in keys
    assert rows(quiet_shop, amy)[-1] == ("out", "收到：在嗎", "sent")

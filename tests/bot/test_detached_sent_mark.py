"""A reply's ``sent`` mark may be committed after its worker thread went on
(``Outbox.mark_sent(wait=False)``). Nothing in the process may then read the batch
as still queued: a resume would send the reply a second time."""

from __future__ import annotations

import threading

from sqlalchemy import event, text

from bot.messages import Text
from bot.outbox import OutboundBatch
from commerce.identity import ConversationKey
from commerce.services.uow import Rows
from tests.bot.test_group_commit import waiting_for

#: Two writes that change nothing; the first holds its group open (see ``hold``).
BLOCKER = text("UPDATE chat_messages SET error = error WHERE id = :rid AND 1 = 1")
OTHER = text("UPDATE chat_messages SET error = error WHERE id = :rid")


def statuses(outbox, row_ids) -> list[str]:
    with outbox._uow.read() as session:
        return [session.execute(text("SELECT status FROM chat_messages WHERE id = :i"),
                                {"i": row_id}).scalar_one() for row_id in row_ids]


def test_a_mark_on_its_way_is_committed_before_anyone_here_reads_the_batch(echo_shop):
    chat = echo_shop.container.chat
    outbox, writes = chat.outbox, chat.outbox.writes
    amy = echo_shop.customer("Amy")
    conv = echo_shop.container.conversations.ensure(
        ConversationKey("line", "main", amy.user_id)).id
    [pending] = outbox.enqueue([OutboundBatch(conv, (Text("您好"),))])
    engine = outbox._uow._factory.kw["bind"]
    started, release = threading.Event(), threading.Event()

    def hold(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001
        if statement.endswith("AND 1 = 1"):
            started.set()
            assert release.wait(5)

    event.listen(engine, "before_cursor_execute", hold)
    seen: list[list] = []
    threads = [threading.Thread(target=writes.run_rows, args=(Rows(BLOCKER, [{"rid": -1}]),))]
    try:
        threads[0].start()
        assert started.wait(5)
        threads.append(threading.Thread(target=writes.run_rows,
                                        args=(Rows(OTHER, [{"rid": -2}]),)))
        threads[1].start()
        waiting_for(lambda: len(writes._group._queue) == 1)
        outbox.mark_sent([(pending.row_ids, ["line-msg-1"])], wait=False)  # back at once
        assert statuses(outbox, pending.row_ids) == ["queued"]
        threads.append(threading.Thread(
            target=lambda: seen.append(outbox.open_batches(conv))))
        threads[2].start()
        waiting_for(lambda: len(writes._group._queue) == 3)  # the reader waits its turn
        assert seen == []
    finally:
        release.set()
        for thread in threads:
            thread.join(5)
        event.remove(engine, "before_cursor_execute", hold)
    assert not any(thread.is_alive() for thread in threads)
    assert seen == [[]]  # nothing looks unsent, so a resume sends nothing again
    assert statuses(outbox, pending.row_ids) == ["sent"]

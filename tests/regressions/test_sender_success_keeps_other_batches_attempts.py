"""Regression: a successful delivery cleared the retry counts of every other batch
(it deleted the whole attempts hash), so a batch that kept failing could retry
forever instead of stopping at its limit."""


from bot.messages import Text
from bot.sandbox.faults import FaultRule
from commerce.identity import ConversationKey


def test_a_success_keeps_the_attempts_of_a_batch_still_failing(echo_shop):
    chat = echo_shop.container.chat
    amy = echo_shop.customer("Amy")
    ben = echo_shop.customer("Ben")
    conv = {p: echo_shop.container.conversations.ensure(
        ConversationKey("line", "main", p.user_id)).id for p in (amy, ben)}
    echo_shop.emulator.faults.add(FaultRule(channel="line", endpoint="push", status=500,
                                            count=3))
    assert chat.notifier.send(conv[amy], [Text("會失敗")]) == "retry"
    failing = chat.outbox.open_batches(conv[amy])[0].batch.batch_id
    attempts_key = chat.keys.build("outbox:attempts")
    before = int(chat.ingestor.client.hget(attempts_key, failing))
    assert before == 3
    assert chat.notifier.send(conv[ben], [Text("會成功")]) == "sent"
    assert int(chat.ingestor.client.hget(attempts_key, failing)) == before

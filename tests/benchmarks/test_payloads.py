"""The benchmark's webhooks must all be distinct, or chatcart's dedupe drops some and
a run waits for replies that never come."""

import json

from benchmarks import payloads


def _event_ids(batch: str, count: int) -> set[str]:
    return {json.loads(hook.body)["events"][0]["webhookEventId"]
            for hook in payloads.round_robin(batch, count)}


def test_event_ids_differ_between_batches_whose_names_prefix_each_other() -> None:
    # "s1" + index 0123 once read the same as "s10" + index 123.
    first, tenth = _event_ids("s1", 1024), _event_ids("s10", 1024)
    assert len(first) == len(tenth) == 1024
    assert not first & tenth


def test_event_ids_keep_the_length_of_a_line_event_id() -> None:
    assert {len(i) for i in _event_ids("abcdefghijkl", 3) | _event_ids("a", 3)} == {26}

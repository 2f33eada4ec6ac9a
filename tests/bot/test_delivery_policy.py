from datetime import datetime, timedelta, timezone

import pytest

from bot.delivery_policy import (
    MessengerRoute,
    backoff_seconds,
    messenger_route,
    reply_token_usable,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize("age, human, update, route", [
    (timedelta(hours=1), False, False, MessengerRoute.RESPONSE),
    (timedelta(hours=23, minutes=59), False, True, MessengerRoute.RESPONSE),
    (timedelta(hours=25), True, False, MessengerRoute.HUMAN_AGENT),
    (timedelta(days=6, hours=23), True, True, MessengerRoute.HUMAN_AGENT),
    (timedelta(hours=25), False, True, MessengerRoute.HOLD),
    (timedelta(hours=25), False, False, MessengerRoute.REFUSE),
    (timedelta(days=8), True, False, MessengerRoute.REFUSE),
    (timedelta(days=8), True, True, MessengerRoute.HOLD),
])
def test_messenger_window_rules(age, human, update, route):
    decision = messenger_route(NOW - age, NOW, human=human, automated_update=update)
    assert decision.route is route
    assert bool(decision.reason) == (route in (MessengerRoute.HOLD, MessengerRoute.REFUSE))


def test_never_wrote_means_no_window():
    assert messenger_route(None, NOW, human=True, automated_update=False).route \
        is MessengerRoute.REFUSE


def test_reply_token_freshness():
    assert reply_token_usable("t", NOW - timedelta(seconds=10), NOW)
    assert not reply_token_usable("t", NOW - timedelta(seconds=55), NOW)
    assert not reply_token_usable(None, NOW, NOW)


def test_backoff_grows_is_capped_and_honours_retry_after():
    for attempt in range(10):
        assert 0 <= backoff_seconds(attempt, None, cap=8) <= 8
    assert backoff_seconds(0, 5.0) >= 5.0
    assert backoff_seconds(0, 500.0, cap=60) == 60

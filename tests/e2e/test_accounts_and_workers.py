"""Several accounts per store, and workers that die mid-event."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.routing import EchoRouter
from bot.sandbox.faults import FaultRule
from bot.settings import ChannelSettings, LineAccount, MessengerPage
from tests.support.chat_story import texts
from tests.support.live_shop import start_live_shop, wait_until

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]



@pytest.fixture
def two_account_shop(app_config, environment, redis_url):
    channels = ChannelSettings(
        line_accounts=(LineAccount(key="main", basic_id="@mainshop"),
                       LineAccount(key="outlet", basic_id="@outlet",
                                   secret_env="LINE_OUTLET_SECRET",
                                   token_env="LINE_OUTLET_TOKEN")),
        messenger_pages=(MessengerPage(page_id="100000000000001"),
                         MessengerPage(page_id="100000000000002",
                                       token_env="MESSENGER_PAGE2_TOKEN")))
    config = app_config.model_copy(update={"channels": channels})
    shop = start_live_shop(config, environment, redis_url,
                           configure=lambda c: c.extras.update(router=EchoRouter()))
    yield shop
    shop.stop()


def test_each_account_has_its_own_webhook_secret_and_token(two_account_shop):
    shop = two_account_shop
    main = shop.customer("Amy", "line", "main")
    outlet = shop.customer("Amy", "line", "outlet")
    page2 = shop.customer("Ben", "messenger", "100000000000002")
    assert shop.emulator.line_channel("outlet").webhook_url.endswith("/webhooks/line/outlet")
    main.says("總店")
    outlet.says("暢貨中心")
    page2.says("第二個粉專")
    wait_until(lambda: texts(main) == ["收到：總店"], message="main reply")
    wait_until(lambda: texts(outlet) == ["收到：暢貨中心"], message="outlet reply")
    wait_until(lambda: texts(page2) == ["收到：第二個粉專"], message="page 2 reply")
    accounts = {(c.channel, c.account) for c in shop.container.conversations.recent()}
    assert accounts == {("line", "main"), ("line", "outlet"),
                        ("messenger", "100000000000002")}
    replies = [c for c in shop.emulator.calls("line", "reply")]
    assert {c.account for c in replies} == {"main", "outlet"}


def test_outlet_events_signed_with_the_main_secret_are_refused(two_account_shop):
    shop = two_account_shop
    outlet_secret = shop.emulator.line_channel("outlet").channel_secret
    shop.emulator.line_channel("outlet").channel_secret = \
        shop.emulator.line_channel("main").channel_secret
    try:
        delivery = shop.customer("Eve", "line", "outlet").says("偽造")
    finally:
        shop.emulator.line_channel("outlet").channel_secret = outlet_secret
    assert delivery.status == 400


def start_worker(environment, redis_url: str, claim_idle_ms: int) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": environment.database_url,
           "CHATCART_SECRET_KEY": environment.secret_key,
           "CHATCART_CONFIG": str(REPO / "config.yaml"),
           "PUBLIC_BASE_URL": environment.public_base_url}
    return subprocess.Popen(
        [sys.executable, "-m", "web.cli", "worker", "--threads", "1",
         "--claim-idle-ms", str(claim_idle_ms), "--lease-seconds", "3"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_killed_mid_event_loses_nothing_and_repeats_nothing(
        app_config, environment, redis_url, tmp_path):
    """A worker process is SIGKILLed while it waits on the platform in the middle
    of an event; a second worker process reclaims the event and answers it once."""
    from dataclasses import replace

    shop = start_live_shop(app_config, environment, redis_url, workers=0)
    env = replace(environment, public_base_url=shop.url)
    first = second = None
    try:
        # the profile lookup the worker makes first will hang for 20 s
        shop.emulator.faults.add(FaultRule(channel="line", endpoint="profile", delay=20))
        first = start_worker(env, redis_url, claim_idle_ms=1500)
        amy = shop.customer("Amy")
        amy.says("第一句")
        wait_until(lambda: not shop.emulator.faults.pending(), timeout=30,
                   message="the slow profile call to start")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        amy.says("第二句")
        second = start_worker(env, redis_url, claim_idle_ms=1500)

        def settled():
            convs = shop.container.conversations.recent()
            if not convs:
                return None
            rows = shop.container.conversations.history(convs[0].id)
            inbound = [m for m in rows if m.direction == "in"]
            if len(inbound) == 2 and all(m.status == "handled" for m in inbound) and all(
                    m.status != "queued" for m in rows if m.direction == "out"):
                return rows
            return None

        rows = wait_until(settled, timeout=60, message="both events handled")
        assert [m.text for m in rows if m.direction == "in"] == ["第一句", "第二句"]
        sent = [m.text for m in rows if m.direction == "out" and m.status == "sent"]
        assert sent, "the customer got an answer"
        # every answer recorded was seen exactly once, and nothing else was seen
        assert texts(amy) == sent
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(15)
        shop.stop()

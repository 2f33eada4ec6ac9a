"""Platform rules on the way out: Messenger's 24-hour window and HUMAN_AGENT tag,
LINE's monthly quota (429 and the 80 % warning), media fetching, event kinds,
and a merchant's text-with-image as two messages."""

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.messages import Image, Text
from bot.routing import EchoRouter
from bot.sandbox.faults import FaultRule
from tests.support.chat_story import conversation, texts
from tests.support.live_shop import start_live_shop, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def echo_live(app_config, environment, redis_url):
    shop = start_live_shop(app_config, environment, redis_url,
                           configure=lambda c: c.extras.update(router=EchoRouter()))
    yield shop
    shop.stop()



def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (40, 30), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


def test_messenger_update_after_25_hours_is_held_then_delivered(echo_live):
    boss = echo_live.merchant("老闆")
    amy = echo_live.customer("Amy", "messenger")
    amy.says("請問出貨了嗎")
    wait_until(lambda: len(texts(amy)) == 1, message="the echo reply")
    echo_live.emulator.clock.advance(25 * 3600)
    outcome = echo_live.container.chat.notifier.send(
        conversation(echo_live, amy).id, [Text("您的訂單已出貨")], automated_update=True)
    assert outcome == "held"
    assert len(texts(amy)) == 1
    wait_until(lambda: any("暫緩" in (t or "") for t in texts(boss)),
               message="the merchant is told")
    amy.says("在嗎")
    wait_until(lambda: len(texts(amy)) == 3, message="held update, then the reply")
    assert texts(amy)[1:] == ["您的訂單已出貨", "收到：在嗎"]


def test_messenger_held_update_that_no_longer_applies_is_dropped(echo_live):
    amy = echo_live.customer("Amy", "messenger")
    amy.says("hi")
    wait_until(lambda: texts(amy), message="reply")
    echo_live.emulator.clock.advance(25 * 3600)
    echo_live.container.chat.notifier.send(
        conversation(echo_live, amy).id, [Text("訂單 999 已付款")], automated_update=True,
        applies_if={"order": "999999999", "status": "paid"})
    amy.says("hello")
    wait_until(lambda: len(texts(amy)) == 2, message="only the reply")
    assert texts(amy) == ["收到：hi", "收到：hello"]


def test_human_reply_uses_human_agent_within_7_days_and_is_refused_after(echo_live):
    boss = echo_live.merchant("老闆")
    amy = echo_live.customer("Amy", "messenger")
    amy.says("hi")
    wait_until(lambda: texts(amy), message="reply")
    conv_id = conversation(echo_live, amy).id
    echo_live.emulator.clock.advance(3 * 24 * 3600)
    assert echo_live.container.chat.notifier.send(conv_id, [Text("老闆親自回覆")],
                                                  human=True) == "sent"
    sends = [c for c in echo_live.emulator.calls("messenger", "send") if c.status == 200]
    assert texts(amy)[-1] == "老闆親自回覆"
    assert len(sends) == 2
    echo_live.emulator.clock.advance(5 * 24 * 3600)
    assert echo_live.container.chat.notifier.send(conv_id, [Text("太晚了")], human=True) \
        == "failed"
    assert texts(amy)[-1] == "老闆親自回覆"
    wait_until(lambda: any("未送達" in (t or "") for t in texts(boss)), message="merchant told")


def test_line_monthly_limit_fails_the_message_and_tells_the_merchant(echo_live):
    # LINE itself is out of quota, so the merchant hears it on Messenger
    boss = echo_live.merchant("老闆", "messenger")
    amy = echo_live.customer("Amy")
    echo_live.emulator.line_channel("main").monthly_limit = 1
    conv_id = conversation(echo_live, amy).id
    assert echo_live.container.chat.notifier.send(conv_id, [Text("第一則")]) == "sent"
    assert echo_live.container.chat.notifier.send(conv_id, [Text("第二則")]) == "failed"
    assert texts(amy) == ["第一則"]
    history = echo_live.container.conversations.history(conv_id)
    assert [m.status for m in history] == ["sent", "failed"]
    assert "額度" in history[1].error
    wait_until(lambda: any("未送達" in (t or "") for t in texts(boss)), message="merchant told")


def test_merchant_warned_once_at_80_percent_of_the_quota(echo_live):
    boss = echo_live.merchant("老闆")
    amy = echo_live.customer("Amy")
    echo_live.emulator.line_channel("main").monthly_limit = 5
    conv_id = conversation(echo_live, amy).id
    for n in range(5):
        echo_live.container.chat.notifier.send(conv_id, [Text(f"推播 {n}")])
    warnings = [t for t in texts(boss) if "推播訊息已用" in (t or "")]
    assert len(warnings) == 1
    assert "/5" in warnings[0]


def test_text_with_image_goes_out_as_two_messages(echo_live):
    amy = echo_live.customer("Amy")
    conv_id = conversation(echo_live, amy).id
    echo_live.container.chat.notifier.send(
        conv_id, [Text("新品到貨"), Image("https://example.com/new.jpg")], human=True)
    seen = amy.seen()
    assert [m["type"] for m in seen] == ["text", "image"]


@pytest.mark.parametrize("channel", ["line", "messenger"])
def test_customer_image_is_fetched_and_stored(echo_live, channel):
    amy = echo_live.customer("Amy", channel)
    amy.sends_image(jpeg_bytes())
    wait_until(lambda: texts(amy) == ["已收到圖片"], message="image acknowledged")
    conv_id = conversation(echo_live, amy).id
    inbound = echo_live.container.conversations.history(conv_id)[0]
    assert inbound.kind == "image" and inbound.media_id is not None
    path, content_type = echo_live.container.media.open(inbound.media_id)
    assert content_type == "image/jpeg"
    assert Path(path).read_bytes()[:2] == b"\xff\xd8"


def test_a_file_that_is_not_an_image_is_noted_not_stored(echo_live):
    amy = echo_live.customer("Amy")
    amy.sends_image(b"%PDF-1.4 not an image", "image/jpeg")
    wait_until(lambda: texts(amy), message="a reply")
    assert texts(amy)[0].startswith("圖片未能保存")


def test_follow_unfollow_postback_and_referral_reach_the_dispatcher(echo_live):
    amy = echo_live.customer("Amy")
    amy.follows()
    amy.taps("order.view:1", "看訂單")
    wait_until(lambda: len(texts(amy)) == 2, message="two replies")
    amy.unfollows()
    ben = echo_live.customer("Ben", "messenger")
    ben.opens_link("bind-123456")
    conv = conversation(echo_live, amy)

    def kinds():
        return [m.kind for m in echo_live.container.conversations.history(conv.id)
                if m.direction == "in"]

    wait_until(lambda: kinds() == ["follow", "postback", "unfollow"], message="inbound kinds")
    ben_conv = conversation(echo_live, ben)
    wait_until(lambda: [m.kind for m in echo_live.container.conversations.history(ben_conv.id)]
               == ["referral"], message="referral recorded")
    assert echo_live.container.conversations.history(ben_conv.id)[0].payload["ref"] \
        == "bind-123456"


def test_a_batch_that_fails_midway_resumes_after_the_part_that_went_out(echo_live):
    """Messenger sends one message per call. The first goes out (its progress is
    marked), the second fails with a 500: the retry sends only the second, and
    once the batch is marked sent its progress is cleared from Redis."""
    bob = echo_live.customer("Bob", "messenger")
    bob.says("在嗎？")  # opens Messenger's 24-hour window
    wait_until(lambda: texts(bob), message="the echo")
    conv_id = conversation(echo_live, bob).id
    before = len(bob.seen())
    calls_before = len(echo_live.emulator.calls("messenger"))
    faults = echo_live.emulator.faults
    faults.add(FaultRule(channel="messenger", endpoint="send", delay=0.01))  # 1st: goes out
    faults.add(FaultRule(channel="messenger", endpoint="send", status=500))  # 2nd: fails once
    echo_live.container.chat.notifier.send(
        conv_id, [Text("新品到貨"), Image("https://example.com/new.jpg")], human=True)
    wait_until(lambda: len(bob.seen()) == before + 2, message="both parts delivered")
    text, image = bob.seen()[before:]
    assert "新品到貨" in str(text) and "new.jpg" in str(image)
    sends = [c.status for c in echo_live.emulator.calls("messenger")[calls_before:]
             if c.endpoint == "send"]
    assert sends == [200, 500, 200]  # the text was not sent again
    redis = echo_live.container.redis
    assert not list(redis.scan_iter(match="*outbox:parts*"))

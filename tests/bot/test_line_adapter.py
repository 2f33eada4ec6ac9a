"""LINE webhook parsing: signatures first, then only the 1:1 events we act on."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.events import (
    EventKind,
    InboundEvent,
    InvalidSignature,
    MalformedPayload,
    MediaRef,
)
from bot.line_adapter import LineWebhook
from commerce.identity import Channel, ConversationKey

# The official sample payloads live beside the repository, in ../shared/fixtures.
SHARED_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
FIXTURES = Path(os.environ.get("CHATCART_FIXTURES", SHARED_FIXTURES)) / "line"
SECRET = "test-channel-secret"
USER = "U206d25c2ea6bd87c17655609a1c37cb8"
TOKEN = "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(body: bytes, account: str = "main") -> list[InboundEvent]:
    return LineWebhook(SECRET, account).parse(body, sign(body))


def body_with(event: dict) -> bytes:
    return json.dumps({"destination": "U123", "events": [event]}).encode()


def test_every_fixture_parses_with_a_valid_signature():
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) == 19
    for path in files:
        events = parse(path.read_bytes())
        for event in events:
            assert event.channel is Channel.LINE
            assert event.user_id == USER
            assert event.timestamp.tzinfo is not None


# What each fixture turns into: (kind, text, postback data, media, reply token, redelivery).
EXPECTED = {
    "empty-events-verification.json": [],
    "file-message.json": [],
    "image-message-external-room.json": [],
    "join-group.json": [],
    "leave-group.json": [],
    "location-message.json": [],
    "member-joined.json": [],
    "text-message-group.json": [],
    "unknown-event-type.json": [],
    "unsend.json": [],
    "video-play-complete.json": [],
    "text-message-user.json": [(EventKind.TEXT, "Hello, world", None, None, TOKEN, False)],
    "text-message-redelivery.json": [(EventKind.TEXT, "Hello, world", None, None, TOKEN, True)],
    "sticker-message.json": [(EventKind.STICKER, "Just sticker", None, None, TOKEN, False)],
    "follow.json": [(EventKind.FOLLOW, None, None, None, TOKEN, False)],
    "unfollow.json": [(EventKind.UNFOLLOW, None, None, None, None, False)],
    "postback-datetime-params.json": [
        (EventKind.POSTBACK, None, "action=buyItem&itemId=123123&color=red", None, TOKEN, False)
    ],
    "image-message-imageset.json": [
        (
            EventKind.IMAGE,
            None,
            None,
            MediaRef.line_content("354718705033693861"),
            "fbf94e269485410da6b7e3a5e33283e8",
            False,
        )
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_to_expected_events(name):
    events = parse(fixture(name))
    got = [
        (e.kind, e.text, e.postback_data, e.media, e.reply_token, e.redelivery) for e in events
    ]
    assert got == EXPECTED[name]


def test_text_event_carries_identity_ids_and_utc_time():
    [event] = parse(fixture("text-message-user.json"), account="shop2")
    assert event.account == "shop2"
    assert event.event_id == "testwebhookeventid"
    assert event.timestamp == datetime(2016, 5, 7, 13, 57, 59, 859000, tzinfo=timezone.utc)
    assert event.conversation == ConversationKey(Channel.LINE, "shop2", USER)


def test_whole_sdk_fixture_keeps_only_user_events_in_order():
    events = parse(fixture("sdk-webhook-all-events.json"))
    assert [e.kind for e in events] == [
        EventKind.TEXT,
        EventKind.STICKER,
        EventKind.FOLLOW,
        EventKind.UNFOLLOW,
        EventKind.POSTBACK,
        EventKind.POSTBACK,
        EventKind.POSTBACK,
        EventKind.POSTBACK,
        EventKind.IMAGE,
        EventKind.TEXT,
    ]
    assert [e.redelivery for e in events].count(True) == 1


def test_external_image_from_a_user_points_at_the_original_url():
    event = json.loads(fixture("image-message-external-room.json"))["events"][0]
    event["source"] = {"type": "user", "userId": USER}
    event["message"]["contentProvider"]["originalContentUrl"] = "https://cdn.example/slip.jpg"
    [parsed] = parse(body_with(event))
    assert parsed.kind is EventKind.IMAGE
    assert parsed.media == MediaRef.from_url("https://cdn.example/slip.jpg")


def test_standby_event_is_kept_without_a_reply_token():
    event = json.loads(fixture("text-message-user.json"))["events"][0]
    event["mode"] = "standby"
    [parsed] = parse(body_with(event))
    assert parsed.text == "Hello, world"
    assert parsed.reply_token is None


def test_missing_signature_is_rejected():
    with pytest.raises(InvalidSignature):
        LineWebhook(SECRET, "main").parse(fixture("text-message-user.json"), None)
    with pytest.raises(InvalidSignature):
        LineWebhook(SECRET, "main").parse(fixture("text-message-user.json"), "")


def test_signature_from_another_secret_is_rejected():
    body = fixture("text-message-user.json")
    with pytest.raises(InvalidSignature):
        LineWebhook(SECRET, "main").parse(body, sign(body, "someone-else"))


def test_forged_signature_is_rejected():
    body = fixture("text-message-user.json")
    with pytest.raises(InvalidSignature):
        LineWebhook(SECRET, "main").parse(body, "not-base64-at-all!")


def test_body_changed_after_signing_is_rejected():
    body = fixture("text-message-user.json")
    signature = sign(body)
    tampered = body.replace(b"Hello, world", b"Hello, World")
    with pytest.raises(InvalidSignature):
        LineWebhook(SECRET, "main").parse(tampered, signature)
    reserialised = json.dumps(json.loads(body)).encode()
    with pytest.raises(InvalidSignature):
        LineWebhook(SECRET, "main").parse(reserialised, signature)


def test_signature_is_checked_before_the_body_is_read():
    with pytest.raises(InvalidSignature):
        LineWebhook(SECRET, "main").parse(b"\xff not json", "AAAA")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"destination": "U123"}',
        b'{"destination": "U123", "events": null}',
        b'{"destination": "U123", "events": ["text"]}',
    ],
)
def test_validly_signed_garbage_is_malformed(body):
    with pytest.raises(MalformedPayload):
        LineWebhook(SECRET, "main").parse(body, sign(body))


def test_a_secret_is_required():
    with pytest.raises(ValueError):
        LineWebhook("", "main")


def test_events_round_trip_through_plain_json():
    events = parse(fixture("sdk-webhook-all-events.json"))
    for event in events:
        data = json.loads(json.dumps(event.to_dict()))
        assert InboundEvent.from_dict(data) == event


def test_from_dict_rejects_a_broken_entry():
    data = parse(fixture("text-message-user.json"))[0].to_dict()
    del data["user_id"]
    with pytest.raises(ValueError):
        InboundEvent.from_dict(data)
    naive = parse(fixture("text-message-user.json"))[0].to_dict()
    naive["timestamp"] = "2016-05-07T13:57:59"
    with pytest.raises(ValueError):
        InboundEvent.from_dict(naive)


# -- shapes we check ourselves (the SDK's models are not used) ------------------------

MISSING = object()


def text_event(**changes: object) -> dict:
    """The official text fixture's event with top-level fields changed or removed."""
    event = json.loads(fixture("text-message-user.json"))["events"][0]
    for key, value in changes.items():
        if value is MISSING:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def text_event_with(path: str, value: object) -> dict:
    event = text_event()
    *parents, last = path.split(".")
    target = event
    for key in parents:
        target = target[key]
    if value is MISSING:
        del target[last]
    else:
        target[last] = value
    return event


def malformed(event: dict) -> None:
    """The event is left out with a warning, and a good event beside it is kept."""
    good = text_event(webhookEventId="01GOODEVENT0000000000000000")
    with assert_logs_warning("LINE event left out"):
        events = parse(json.dumps({"destination": "Uxxx", "events": [event, good]}).encode())
    assert [e.event_id for e in events] == ["01GOODEVENT0000000000000000"]


@contextlib.contextmanager
def assert_logs_warning(text: str):
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("chatcart.webhooks")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert any(text in r.getMessage() for r in records), [r.getMessage() for r in records]


@pytest.mark.parametrize(
    "path, value",
    [
        ("type", MISSING), ("type", None), ("type", 5), ("type", ["message"]),
        ("source", "U206d25c2ea6bd87c17655609a1c37cb8"), ("source.userId", 5),
        ("message", MISSING), ("message", "Hello"), ("message.type", MISSING),
        ("message.type", 5), ("message.text", MISSING), ("message.text", None),
        ("message.text", 5),
        ("mode", MISSING), ("mode", "passive"), ("mode", ["active"]),
        ("webhookEventId", MISSING), ("webhookEventId", ""), ("webhookEventId", 5),
        ("timestamp", MISSING), ("timestamp", "1462629479859"), ("timestamp", 1.5),
        ("timestamp", True), ("timestamp", 10**20),
        ("deliveryContext", MISSING), ("deliveryContext", {}), ("deliveryContext", False),
        ("deliveryContext.isRedelivery", "false"), ("deliveryContext.isRedelivery", 0),
        ("deliveryContext.isRedelivery", None),
        ("replyToken", 5),
    ],
)
def test_a_kept_event_with_a_field_we_read_of_the_wrong_shape_is_malformed(path, value):
    malformed(text_event_with(path, value))


@pytest.mark.parametrize("postback", [MISSING, "data", {}, {"data": 5}, {"data": None}])
def test_a_postback_needs_string_data(postback):
    event = json.loads(fixture("postback-datetime-params.json"))["events"][0]
    if postback is MISSING:
        del event["postback"]
    else:
        event["postback"] = postback
    malformed(event)


@pytest.mark.parametrize(
    "message",
    [
        {"type": "image", "id": "1", "quoteToken": "q"},
        {"type": "image", "id": "1", "contentProvider": "line"},
        {"type": "image", "id": "1", "contentProvider": {"type": "other"}},
        {"type": "image", "id": "1", "contentProvider": {"type": ["line"]}},
        {"type": "image", "contentProvider": {"type": "line"}},
        {"type": "image", "id": "", "contentProvider": {"type": "line"}},
        {"type": "image", "id": 1, "contentProvider": {"type": "line"}},
        {"type": "image", "id": "1",
         "contentProvider": {"type": "external", "originalContentUrl": 5}},
        {"type": "sticker", "id": "1", "packageId": "1", "stickerId": "1", "text": 5},
    ],
)
def test_image_and_sticker_fields_we_read_are_checked(message):
    malformed(text_event(message=message))


def test_an_external_image_without_a_url_is_kept_without_media():
    message = {"type": "image", "id": "1", "contentProvider": {"type": "external"}}
    [event] = parse(body_with(text_event(message=message)))
    assert (event.kind, event.media) == (EventKind.IMAGE, None)


@pytest.mark.parametrize(
    "event",
    [
        # Events we do not keep are not looked into beyond their type and source.
        {"type": "beacon", "mode": 5, "timestamp": "x"},
        {"type": "unknownFutureEvent"},
        {"type": "", "source": "x"},
        text_event(source={"type": "group", "groupId": "G1", "userId": 5}, mode="x"),
        text_event(message={"type": "video", "id": 5}, timestamp="x", mode=None),
        text_event(message={"type": "location"}, webhookEventId=""),
        # A kept type without a user to answer is dropped, as before.
        text_event(source=MISSING),
        text_event(source=None),
        text_event_with("source.userId", MISSING),
        text_event_with("source.userId", ""),
    ],
)
def test_events_we_drop_are_dropped_whatever_their_other_fields(event):
    assert parse(body_with(event)) == []


def test_fields_we_do_not_read_are_not_checked():
    event = text_event_with("message.quoteToken", MISSING)
    del event["message"]["id"]
    event["message"]["emojis"] = "not a list"
    [parsed] = parse(body_with(event))
    assert parsed.text == "Hello, world"


@pytest.mark.parametrize(
    "body",
    [
        b'{"destination": "U123", "events": {}}',
        b'{"destination": "U123", "events": ""}',
        b'{"destination": "U123", "events": [1]}',
        b'{"destination": "U123", "events": [[]]}',
        b'\xef\xbb\xbf{"destination": "U123", "events": []}',
        '{"destination": "U123", "events": []}'.encode("utf-16"),
    ],
)
def test_bodies_that_are_not_an_events_list_of_objects_in_utf8_are_malformed(body):
    with pytest.raises(MalformedPayload):
        LineWebhook(SECRET, "main").parse(body, sign(body))


def test_unfollow_never_has_a_reply_token_and_standby_loses_it():
    unfollow = json.loads(fixture("unfollow.json"))["events"][0]
    unfollow["replyToken"] = TOKEN
    [parsed] = parse(body_with(unfollow))
    assert parsed.kind is EventKind.UNFOLLOW and parsed.reply_token is None
    postback = json.loads(fixture("postback-datetime-params.json"))["events"][0]
    postback["mode"] = "standby"
    [parsed] = parse(body_with(postback))
    assert parsed.postback_data and parsed.reply_token is None


def test_one_parser_serves_many_requests_alike():
    parser = LineWebhook(SECRET, "main")
    body = fixture("sdk-webhook-all-events.json")
    first = parser.parse(body, sign(body))
    assert parser.parse(body, sign(body)) == first == parse(body)


def test_an_event_without_a_type_is_left_out_and_the_rest_kept():
    malformed({})

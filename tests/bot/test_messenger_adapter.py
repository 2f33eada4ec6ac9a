"""Messenger webhook parsing: our own signature check, ids of either JSON type,
and only customer input (no echoes, deliveries or reads)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.events import EventKind, InboundEvent, InvalidSignature, MalformedPayload, MediaRef
from bot.messenger_adapter import MessengerWebhook, verify_signature
from commerce.identity import Channel, ConversationKey

# The official sample payloads live beside the repository, in ../shared/fixtures.
SHARED_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
FIXTURES = Path(os.environ.get("CHATCART_FIXTURES", SHARED_FIXTURES)) / "messenger"
SECRET = "test-app-secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(body: bytes) -> list[InboundEvent]:
    return MessengerWebhook(SECRET).parse(body, sign(body))


def page_body(*events: dict, page_id: object = "111111") -> bytes:
    return json.dumps(
        {"object": "page", "entry": [{"id": page_id, "time": 1, "messaging": list(events)}]}
    ).encode()


def user_event(**content: object) -> dict:
    return {"sender": {"id": "PSID1"}, "recipient": {"id": "111111"}, "timestamp": 1700000000000,
            **content}


# (kind, account, user, event id, text, postback data, referral ref, media)
EXPECTED = {
    "delivery.json": [],
    "read.json": [],
    "echo.json": [],
    "location-attachment.json": [],
    "text-message.json": [
        (EventKind.TEXT, "111111", "USER_ID", "mid.1457764197618:41d102a3e1ae206a38",
         "hello, world!", None, None, None)
    ],
    "text-reply-to.json": [
        (EventKind.TEXT, "12345654332", "987654321432", "mid.1457764197618:41d102a3e1ae206a38",
         "hello, world!", None, None, None)
    ],
    "image-attachment.json": [
        (EventKind.IMAGE, "111111", "USER_ID", "mid.1458696618141:b4ef9d19ec21086067",
         None, None, None, MediaRef.from_url("IMAGE_URL"))
    ],
    "sticker.json": [
        (EventKind.STICKER, "12345654332", "987654321432", "mid.12345654332:226a70a704",
         None, None, None, None)
    ],
    "quick-reply.json": [
        (EventKind.POSTBACK, "1234567890321", "987654321432",
         "mid.1458696618141:b4ef9d19ec21086067", "quick reply text", "PAYLOAD_QUICK_REPLY",
         None, None)
    ],
    "postback-with-referral.json": [
        (EventKind.POSTBACK, "0", "0", "m_1457764197618:41d102a3e1ae206a38", "title",
         "USER_DEFINED_PAYLOAD", "USER_DEFINED_REFERRAL_PARAM", None)
    ],
}


def summary(event: InboundEvent) -> tuple:
    return (event.kind, event.account, event.user_id, event.event_id, event.text,
            event.postback_data, event.referral_ref, event.media)


def test_every_fixture_is_covered():
    names = {p.name for p in FIXTURES.glob("*.json")}
    assert names == set(EXPECTED) | {"postback.json", "referral.json"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_to_expected_events(name):
    events = parse(fixture(name))
    assert [summary(e) for e in events] == EXPECTED[name]
    for event in events:
        assert event.channel is Channel.MESSENGER
        assert event.reply_token is None
        assert event.redelivery is False


def test_postback_without_mid_gets_a_stable_hashed_id():
    [event] = parse(fixture("postback.json"))
    assert event.kind is EventKind.POSTBACK
    assert event.postback_data == "USER_DEFINED_PAYLOAD"
    assert event.timestamp == datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=timezone.utc)
    again = parse(fixture("postback.json"))[0]
    assert again.event_id == event.event_id
    other = parse(fixture("postback.json").replace(b"USER_DEFINED", b"OTHER"))[0]
    assert other.event_id != event.event_id


def test_referral_becomes_a_referral_event_with_its_ref():
    [event] = parse(fixture("referral.json"))
    assert (event.kind, event.referral_ref) == (EventKind.REFERRAL, "USER_DEFINED_REFERRAL_PARAM")
    assert event.conversation == ConversationKey(Channel.MESSENGER, "0", "0")
    assert event.event_id == parse(fixture("referral.json"))[0].event_id


def test_hashed_id_ignores_seq():
    plain = user_event(postback={"payload": "order.confirm:A1"})
    with_seq = user_event(postback={"payload": "order.confirm:A1", "seq": 0})
    assert parse(page_body(plain))[0].event_id == parse(page_body(with_seq))[0].event_id


def test_numeric_and_string_ids_give_the_same_conversation():
    numeric = page_body(
        {"sender": {"id": 42}, "recipient": {"id": 7}, "timestamp": 5,
         "message": {"mid": "m1", "text": "hi"}},
        page_id=7,
    )
    textual = page_body(
        {"sender": {"id": "42"}, "recipient": {"id": "7"}, "timestamp": 5,
         "message": {"mid": "m1", "text": "hi"}},
        page_id="7",
    )
    assert parse(numeric) == parse(textual)
    assert parse(numeric)[0].conversation.as_str() == "messenger:7:42"


def test_each_image_in_one_message_is_its_own_event():
    body = page_body(user_event(message={"mid": "m9", "attachments": [
        {"type": "image", "payload": {"url": "https://cdn.example/1.jpg"}},
        {"type": "file", "payload": {"url": "https://cdn.example/a.pdf"}},
        {"type": "image", "payload": {"url": "https://cdn.example/2.jpg"}},
    ]}))
    events = parse(body)
    assert [(e.event_id, e.media.url) for e in events] == [
        ("m9", "https://cdn.example/1.jpg"),
        ("m9#1", "https://cdn.example/2.jpg"),
    ]


def test_batched_entries_keep_their_pages_and_order():
    body = json.dumps({"object": "page", "entry": [
        {"id": "P1", "time": 1, "messaging": [user_event(message={"mid": "a", "text": "one"})]},
        {"id": "P2", "time": 1, "messaging": [
            user_event(message={"mid": "b", "text": "two"}),
            user_event(message={"mid": "c", "text": "x", "is_echo": True}),
        ]},
    ]}).encode()
    assert [(e.account, e.text) for e in parse(body)] == [("P1", "one"), ("P2", "two")]


def test_other_object_types_give_no_events():
    body = json.dumps({"object": "instagram", "entry": []}).encode()
    assert parse(body) == []


def test_verify_signature_accepts_only_the_right_hmac():
    body = fixture("text-message.json")
    assert verify_signature(SECRET, body, sign(body))
    assert verify_signature(SECRET, body, sign(body).upper().replace("SHA256=", "sha256="))
    assert not verify_signature(SECRET, body, None)
    assert not verify_signature(SECRET, body, "")
    assert not verify_signature(SECRET, body, sign(body, "other-secret"))
    assert not verify_signature(SECRET, body, sign(body)[len("sha256="):])
    legacy = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert not verify_signature(SECRET, body, legacy)
    assert not verify_signature(SECRET, body + b" ", sign(body))


@pytest.mark.parametrize("header", [None, "", "sha256=00", "sha256=é"])
def test_bad_signatures_are_rejected_before_parsing(header):
    with pytest.raises(InvalidSignature):
        MessengerWebhook(SECRET).parse(b"not even json", header)


def test_body_changed_after_signing_is_rejected():
    body = fixture("text-message.json")
    header = sign(body)
    with pytest.raises(InvalidSignature):
        MessengerWebhook(SECRET).parse(body.replace(b"hello", b"HELLO"), header)


@pytest.mark.parametrize(
    "body",
    [
        b"{oops",
        b"[]",
        b'{"object": "page"}',
        json.dumps({"object": "page", "entry": [
            {"time": 1, "messaging": [user_event(message={"mid": "m", "text": "no page"})]}
        ]}).encode(),
        b'{"object": "page", "entry": [{"id": "1", "messaging": [{"message": {"mid": "m"}}]}]}',
        page_body({"sender": {"id": "u"}, "message": {"mid": "m", "text": "no time"}})
        .replace(b'"time": 1', b'"time": null'),
        page_body(user_event(message={"text": "no mid"})),
        page_body({"sender": {"id": None}, "timestamp": 1, "message": {"mid": "m", "text": "x"}}),
    ],
)
def test_validly_signed_garbage_is_malformed(body):
    with pytest.raises(MalformedPayload):
        parse(body)


def test_events_round_trip_through_plain_json():
    for path in sorted(FIXTURES.glob("*.json")):
        for event in parse(path.read_bytes()):
            assert InboundEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event


def test_media_ref_needs_exactly_one_locator():
    with pytest.raises(ValueError):
        MediaRef("url")
    with pytest.raises(ValueError):
        MediaRef("line_content", message_id="1", url="https://x")
    with pytest.raises(ValueError):
        MediaRef("ftp", url="ftp://x")


def test_a_secret_is_required():
    with pytest.raises(ValueError):
        MessengerWebhook("")

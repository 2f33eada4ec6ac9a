"""Two small Redis records the flows read besides snapshots.

``OrderCards``: the newest card sent for each order (a random version and the
order-page token it links to). The confirm button carries the version, so a tap
on an older card is recognised and changes nothing; the token lets the bot link
the order page in later messages ("去支付", the merchant's proof alert) without
issuing a new link, which would revoke the one the customer already has.

``IssueDetails``: what the binding API knew when it issued a code and the code
registry does not keep: the visitor (checked again when the shopper confirms or
undoes on the page) and the shop's member reference, if a member token came
with the request. Both expire with the code's record.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import redis

from flows.definitions.services import CardRecord
from flows.keys import KeyBuilder

CARD_KIND = "order:card"
ISSUE_KIND = "binding:issue-details"
CARD_TTL = timedelta(days=60)


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class OrderCards:
    def __init__(self, client: redis.Redis, keys: KeyBuilder | None = None,
                 ttl: timedelta = CARD_TTL) -> None:
        self._redis = client
        self._keys = keys or KeyBuilder()
        self._ttl = ttl

    def issue(self, number: str, token: str) -> CardRecord:
        """Record a newly sent card; every earlier card of the order becomes stale."""
        record = CardRecord(secrets.token_hex(4), token)
        key = self._keys.build(CARD_KIND, number)
        pipe = self._redis.pipeline()
        pipe.hset(key, mapping={"version": record.version, "token": record.token})
        pipe.pexpire(key, int(self._ttl.total_seconds() * 1000))
        pipe.execute()
        return record

    def current(self, number: str) -> CardRecord | None:
        raw = self._redis.hgetall(self._keys.build(CARD_KIND, number))
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return CardRecord(fields["version"], fields["token"])


@dataclass(frozen=True)
class IssueDetail:
    visitor_id: str
    channel: str
    member_ref: str | None
    undone: bool = False


class IssueDetails:
    def __init__(self, client: redis.Redis, keys: KeyBuilder | None = None) -> None:
        self._redis = client
        self._keys = keys or KeyBuilder()

    def put(self, issue_id: str, detail: IssueDetail, ttl: timedelta) -> None:
        key = self._keys.build(ISSUE_KIND, issue_id)
        pipe = self._redis.pipeline()
        pipe.hset(key, mapping={"visitor_id": detail.visitor_id, "channel": detail.channel,
                                "member_ref": detail.member_ref or ""})
        pipe.pexpire(key, int(ttl.total_seconds() * 1000))
        pipe.execute()

    def get(self, issue_id: str) -> IssueDetail | None:
        raw = self._redis.hgetall(self._keys.build(ISSUE_KIND, issue_id))
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return IssueDetail(fields["visitor_id"], fields["channel"],
                           fields.get("member_ref") or None, fields.get("undone") == "1")

    def mark_undone(self, issue_id: str) -> None:
        """Remember that the shopper undid the binding made with this code."""
        key = self._keys.build(ISSUE_KIND, issue_id)
        if self._redis.exists(key):
            self._redis.hset(key, "undone", "1")

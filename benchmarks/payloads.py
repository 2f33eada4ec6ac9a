"""Signed LINE webhook bodies, the same bytes for every contender.

Each webhook carries one text message from one of ``users`` distinct users and is
unique (its own ``webhookEventId``, message id and reply token), so chatcart's
dedupe never short-circuits a request. The reply token names the webhook
(``rt<batch>-<index>``): the fake platform records when each one came back, which
gives end-to-end latency per dialog turn.

The text is a six-digit binding code the shop never issued: with the production
router every such message is a turn of the binding flow (snapshot, attempt
limiter, code registry) that always gets an answer ("wrong code", and after five
wrong codes "locked for a while"), whereas ordinary chatter gets the merchant's
auto-reply only once an hour. The echo contenders simply echo it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

CHANNEL_SECRET = "bench-channel-secret-0123456789ab"
ACCESS_TOKEN = "bench-access-token"
BOT_USER = "U" + "b" * 32


@dataclass(frozen=True)
class Webhook:
    reply_token: str
    signature: str
    body: bytes


def user_id(index: int) -> str:
    return "U" + hashlib.sha256(f"bench-user-{index}".encode()).hexdigest()[:32]


def sign(body: bytes, secret: str = CHANNEL_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def code_text(index: int) -> str:
    return f"{(index * 7919 + 104729) % 1_000_000:06d}"


def webhook(batch: str, index: int, user: int, text: str | None = None,
            timestamp_ms: int | None = None) -> Webhook:
    """Webhook ``index`` of ``batch`` (at most 12 characters, unique per measurement).

    The event time is now unless given: chatcart uses a reply token only while the
    event is under 50 s old, so bodies are made just before they are sent.
    """
    if not 0 < len(batch) <= 12 or not batch.isalnum():
        raise ValueError(f"batch names are 1-12 letters or digits: {batch!r}")
    token = f"rt{batch}-{index}"
    event = {
        "type": "message",
        "message": {"type": "text", "id": f"{batch}{index:09d}", "quoteToken": f"q{token}",
                    "text": text if text is not None else code_text(index)},
        # The dash ends the batch name: without it batch "s1" index 0123 and batch
        # "s10" index 123 had the same id, and chatcart's dedupe dropped a whole run.
        "webhookEventId": f"01{batch}-{index:0{23 - len(batch)}d}",
        "deliveryContext": {"isRedelivery": False},
        "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id(user)},
        "replyToken": token,
        "mode": "active",
    }
    body = json.dumps({"destination": BOT_USER, "events": [event]}, ensure_ascii=False,
                      separators=(",", ":")).encode()
    return Webhook(token, sign(body), body)


def round_robin(batch: str, count: int, users: int = 256, *, first_user: int = 0
                ) -> Iterator[Webhook]:
    """``count`` webhooks, user after user (``first_user`` .. ``first_user+users-1``)."""
    for index in range(count):
        yield webhook(batch, index, first_user + index % users)


def write_wrk_file(path: str, hooks: Iterator[Webhook]) -> int:
    """One ``signature<TAB>body`` line per webhook, for the wrk script."""
    count = 0
    with open(path, "wb") as out:
        for hook in hooks:
            out.write(hook.signature.encode() + b"\t" + hook.body + b"\n")
            count += 1
    return count

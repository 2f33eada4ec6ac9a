"""Rules for when and how a message may be sent, kept apart from the sending.

LINE: a reply token is free but single use and short-lived; once it is stale or
used, a push (paid, counted against the monthly quota) carries the message.
Messenger: a normal message only within 24 h of the customer's last message; a
message a person wrote by hand may go with the HUMAN_AGENT tag within 7 days;
anything else must wait for the customer (automated updates) or is refused.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

REPLY_TOKEN_FRESH = timedelta(seconds=50)
MESSENGER_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


def reply_token_usable(token: str | None, issued_at: datetime | None, now: datetime) -> bool:
    return bool(token) and issued_at is not None and now - issued_at < REPLY_TOKEN_FRESH


class MessengerRoute(enum.Enum):
    RESPONSE = "RESPONSE"
    HUMAN_AGENT = "HUMAN_AGENT"
    HOLD = "HOLD"
    REFUSE = "REFUSE"


@dataclass(frozen=True)
class MessengerDecision:
    route: MessengerRoute
    reason: str = ""


def messenger_route(last_inbound: datetime | None, now: datetime, *, human: bool,
                    automated_update: bool) -> MessengerDecision:
    if last_inbound is not None and now - last_inbound < MESSENGER_WINDOW:
        return MessengerDecision(MessengerRoute.RESPONSE)
    if human and last_inbound is not None and now - last_inbound < HUMAN_AGENT_WINDOW:
        return MessengerDecision(MessengerRoute.HUMAN_AGENT)
    if automated_update:
        return MessengerDecision(
            MessengerRoute.HOLD, "顧客超過 24 小時未傳訊息，自動通知將在顧客下次傳訊時送出")
    return MessengerDecision(
        MessengerRoute.REFUSE,
        "顧客超過 24 小時未傳訊息（人工回覆限 7 天內），Messenger 不允許傳送")


def backoff_seconds(attempt: int, retry_after: float | None, *, base: float = 0.5,
                    cap: float = 60.0) -> float:
    """Exponential backoff with full jitter; a server's Retry-After wins when longer."""
    delay = random.uniform(0, min(cap, base * 2 ** attempt))
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay

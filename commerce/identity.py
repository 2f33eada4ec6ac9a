"""Who is talking to the shop: channels and conversation keys.

A conversation is identified by the channel, the bot account (LINE channel or
Facebook page) and the platform's user id. The account matters because one store
may connect several LINE Official Accounts and Facebook pages, and the same person
has a different user id on each of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Channel(str, enum.Enum):
    LINE = "line"
    MESSENGER = "messenger"


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Immutable identity of one chat thread between a shop account and a user."""

    channel: Channel
    account: str
    user_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.channel, Channel):
            object.__setattr__(self, "channel", Channel(self.channel))
        if not self.account or not self.user_id:
            raise ValueError("a conversation needs an account and a user id")
        for part in (self.account, self.user_id):
            if ":" in part:
                raise ValueError(f"conversation key parts may not contain ':' ({part!r})")

    def as_str(self) -> str:
        """Stable text form, used in Redis keys and stream entries."""
        return f"{self.channel.value}:{self.account}:{self.user_id}"

    @classmethod
    def parse(cls, text: str) -> ConversationKey:
        channel, account, user_id = text.split(":", 2)
        return cls(Channel(channel), account, user_id)

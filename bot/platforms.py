"""The connected chat accounts and a client for each.

Built once by the composition root from config and environment. In the sandbox
the same classes point at the emulator's base URLs, so the code paths under test
are the production ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LineChannel:
    key: str
    secret: str
    basic_id: str
    client: Any  # bot.line_client.LineClient


@dataclass
class MessengerPageLink:
    page_id: str
    client: Any  # bot.messenger_client.MessengerClient


@dataclass
class Platforms:
    line: dict[str, LineChannel] = field(default_factory=dict)
    messenger: dict[str, MessengerPageLink] = field(default_factory=dict)
    messenger_app_secret: str | None = None
    messenger_verify_token: str | None = None
    line_sandbox: bool = True
    messenger_sandbox: bool = True

    def line_channel(self, key: str) -> LineChannel | None:
        return self.line.get(key)

    def messenger_page(self, page_id: str) -> MessengerPageLink | None:
        return self.messenger.get(page_id)

    def close(self) -> None:
        for channel in self.line.values():
            channel.client.close()

"""``PlatformEmulator``: an in-memory LINE and Messenger for local runs and tests.

It holds what the real platforms hold about a shop: its accounts and their
secrets, the people who talk to them, every message each person has seen, and a
log of every API call the service made. The platform rules themselves live in
``line_api`` and ``messenger_api``; customer actions live in ``webhooks``.

All state sits behind one re-entrant lock because the service's workers, the
webhook sender and the chat page's poller touch it from different threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bot.sandbox import ids
from bot.sandbox.clock import SandboxClock
from bot.sandbox.faults import FaultQueue
from bot.sandbox.line_api import LineApi
from bot.sandbox.messenger_api import GraphApi
from bot.sandbox.state import (
    LINE,
    MESSENGER,
    LineChannel,
    Media,
    MessengerPage,
    OutboundCall,
    SimUser,
    ThreadKey,
    TranscriptEntry,
)


class PlatformEmulator:
    """Both platforms' server side, in one thread-safe object.

    ``public_base_url`` is where the sandbox blueprint is reachable (e.g.
    ``http://127.0.0.1:8000/sandbox``); it is used for links to media that a
    Messenger customer "uploads", which the service must be able to fetch.
    ``sleep`` is how fault delays wait, replaceable in unit tests.
    """

    def __init__(
        self,
        clock: SandboxClock | None = None,
        *,
        reply_token_ttl: float = 60.0,
        public_base_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock = clock or SandboxClock()
        self.lock = threading.RLock()
        self.faults = FaultQueue()
        self.sleep = sleep
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._line_channels: dict[str, LineChannel] = {}
        self._pages: dict[str, MessengerPage] = {}
        self._users: dict[ThreadKey, SimUser] = {}
        self._threads: dict[ThreadKey, list[TranscriptEntry]] = {}
        self._calls: list[OutboundCall] = []
        self._media: dict[str, Media] = {}
        self.line = LineApi(self, reply_token_ttl=reply_token_ttl)
        self.graph = GraphApi(self)

    # -- accounts ---------------------------------------------------------

    def add_line_channel(
        self,
        account: str,
        *,
        channel_secret: str,
        access_token: str,
        basic_id: str = "@sandbox",
        webhook_url: str | None = None,
        bot_user_id: str | None = None,
        monthly_limit: int | None = None,
    ) -> LineChannel:
        """Register (or replace) a LINE channel the service can act as."""
        channel = LineChannel(
            account=account,
            channel_secret=channel_secret,
            access_token=access_token,
            basic_id=basic_id,
            bot_user_id=bot_user_id or ids.line_user_id(f"bot:{account}"),
            webhook_url=webhook_url,
            monthly_limit=monthly_limit,
        )
        with self.lock:
            self._line_channels[account] = channel
        return channel

    def add_messenger_page(
        self,
        page_id: str,
        *,
        page_token: str,
        app_secret: str,
        name: str = "",
        webhook_url: str | None = None,
    ) -> MessengerPage:
        """Register (or replace) a Facebook page the service can send as."""
        page = MessengerPage(page_id, page_token, app_secret, name, webhook_url)
        with self.lock:
            self._pages[page_id] = page
        return page

    def line_channel(self, account: str) -> LineChannel:
        with self.lock:
            try:
                return self._line_channels[account]
            except KeyError:
                raise KeyError(f"no LINE channel {account!r} in the sandbox") from None

    def messenger_page(self, page_id: str) -> MessengerPage:
        with self.lock:
            try:
                return self._pages[page_id]
            except KeyError:
                raise KeyError(f"no Messenger page {page_id!r} in the sandbox") from None

    def line_channels(self) -> list[LineChannel]:
        with self.lock:
            return list(self._line_channels.values())

    def messenger_pages(self) -> list[MessengerPage]:
        with self.lock:
            return list(self._pages.values())

    def line_channel_by_token(self, access_token: str | None) -> LineChannel | None:
        with self.lock:
            for channel in self._line_channels.values():
                if access_token and channel.access_token == access_token:
                    return channel
        return None

    def page_by_token(self, page_token: str | None) -> MessengerPage | None:
        with self.lock:
            for page in self._pages.values():
                if page_token and page.page_token == page_token:
                    return page
        return None

    # -- people -----------------------------------------------------------

    def ensure_user(
        self,
        channel: str,
        account: str,
        display_name: str,
        user_id: str | None = None,
        picture_url: str | None = None,
    ) -> SimUser:
        """The simulated person with this id (or, by default, this name).

        Without an id the id is derived from the name, so the same name on the
        same account is always the same person.
        """
        if channel == LINE:
            self.line_channel(account)
            user_id = user_id or ids.line_user_id(f"{account}:{display_name}")
        elif channel == MESSENGER:
            self.messenger_page(account)
            user_id = user_id or ids.messenger_psid(f"{account}:{display_name}")
        else:
            raise ValueError(f"unknown channel {channel!r}")
        with self.lock:
            user = self._users.get((channel, account, user_id))
            if user is None:
                user = SimUser(channel, account, user_id, display_name, picture_url)
                self._users[user.key] = user
            return user

    def user(self, channel: str, account: str, user_id: str) -> SimUser | None:
        with self.lock:
            return self._users.get((channel, account, user_id))

    def users(self) -> list[SimUser]:
        with self.lock:
            return list(self._users.values())

    # -- transcripts ------------------------------------------------------

    def append(
        self, key: ThreadKey, direction: str, via: str, message: dict[str, Any]
    ) -> TranscriptEntry:
        """Add one message to a conversation, in the order it reached the person."""
        with self.lock:
            entries = self._threads.setdefault(key, [])
            entry = TranscriptEntry(len(entries), direction, self.clock.now(), via, message)
            entries.append(entry)
            return entry

    def transcript(
        self, channel: str, account: str, user_id: str, since: int = 0
    ) -> list[TranscriptEntry]:
        with self.lock:
            return list(self._threads.get((channel, account, user_id), [])[since:])

    def delivered(self, channel: str, account: str, user_id: str) -> list[dict[str, Any]]:
        """The shop's messages this person saw, in order, each exactly once."""
        return [
            entry.message
            for entry in self.transcript(channel, account, user_id)
            if entry.direction == "out"
        ]

    def conversations(self) -> list[dict[str, Any]]:
        with self.lock:
            result = []
            for key, entries in self._threads.items():
                user = self._users.get(key)
                result.append(
                    {
                        "channel": key[0],
                        "account": key[1],
                        "user_id": key[2],
                        "display_name": user.display_name if user else None,
                        "messages": len(entries),
                        "last_time": entries[-1].time.isoformat() if entries else None,
                    }
                )
            return result

    # -- media ------------------------------------------------------------

    def store_media(
        self,
        content: bytes,
        content_type: str,
        channel: str,
        account: str,
        media_id: str | None = None,
    ) -> Media:
        media = Media(media_id or ids.token(), content, content_type, channel, account)
        with self.lock:
            self._media[media.media_id] = media
        return media

    def media(self, media_id: str) -> Media | None:
        with self.lock:
            return self._media.get(media_id)

    def media_url(self, media_id: str) -> str:
        """Absolute URL of hosted media; needs ``public_base_url`` to be known."""
        if not self.public_base_url:
            raise RuntimeError("the sandbox's public base URL is not known yet")
        return f"{self.public_base_url}/media/{media_id}"

    # -- the call log -----------------------------------------------------

    def record_call(self, **fields: Any) -> OutboundCall:
        with self.lock:
            call = OutboundCall(seq=len(self._calls), time=self.clock.now(), **fields)
            self._calls.append(call)
            return call

    def calls(self, channel: str | None = None, endpoint: str | None = None) -> list[OutboundCall]:
        with self.lock:
            return [
                call
                for call in self._calls
                if channel in (None, call.channel) and endpoint in (None, call.endpoint)
            ]

    # -- time and reset ---------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Let time pass: expires reply tokens, retry keys and Messenger windows."""
        self.clock.advance(seconds)

    def reset(self) -> None:
        """Forget people, chats, calls, media and faults; keep the accounts."""
        with self.lock:
            self._users.clear()
            self._threads.clear()
            self._calls.clear()
            self._media.clear()
            self.faults.clear()
            self.line.reset()

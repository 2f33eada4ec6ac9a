"""What a router receives and returns. Routers decide what to answer; they never
send: the dispatcher persists their replies in the outbox and the sender delivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.events import EventKind, InboundEvent
from bot.messages import Message, Text
from commerce.services.conversation_service import ConversationView


@dataclass(frozen=True)
class InboundContext:
    """What a router sees of one event. The event is not in SQL yet: the dispatcher
    writes it together with the replies the router returns."""

    event: InboundEvent
    conversation: ConversationView
    media_id: int | None = None
    media_error: str | None = None


@dataclass(frozen=True)
class Reply:
    messages: tuple[Message, ...]
    conversation_id: int | None = None  # None: the conversation the event came from
    automated_update: bool = False
    human: bool = False
    applies_if: dict | None = None
    internal: bool = False


class Router(Protocol):
    def route(self, ctx: InboundContext) -> list[Reply]: ...


STICKER_NOTE = "（貼圖，未顯示）"


class EchoRouter:
    """The smallest useful router: proves the path by answering every message.

    Used by the channel tests and as the fallback before any flow is wired in.
    """

    def route(self, ctx: InboundContext) -> list[Reply]:
        event = ctx.event
        if event.kind is EventKind.TEXT:
            return [Reply((Text(f"收到：{event.text}"),))]
        if event.kind is EventKind.STICKER:
            return [Reply((Text("謝謝你的貼圖！有任何問題都可以直接留言給我們喔。"),))]
        if event.kind is EventKind.IMAGE:
            note = "已收到圖片" if ctx.media_id else f"圖片未能保存：{ctx.media_error}"
            return [Reply((Text(note),))]
        if event.kind is EventKind.POSTBACK:
            return [Reply((Text(f"收到按鈕：{event.postback_data}"),))]
        if event.kind is EventKind.FOLLOW:
            return [Reply((Text("歡迎加入！有任何問題都可以直接留言。"),))]
        return []

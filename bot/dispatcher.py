"""Handles one inbound event inside a worker, holding the conversation's lock.

Order of work: read what is known of the conversation and the event (one read,
no write lock), fetch the event's media while the platform still has it, ask the
router for replies, then write the event as handled together with the replies in
one transaction, and deliver them. Held updates the customer's message releases
go out first. A redelivered or re-run event that was already handled only
finishes delivering what is still queued.

The event is written once, at the end, because on SQLite every write
transaction queues for the one write lock: a turn takes two (this one and the
sender's "sent" mark), and both are shared with other threads' writes made at the
same moment (``Outbox.writes``). If routing fails, the event is still recorded (as
received, not handled) before the failure goes up to the worker's retries, so a
customer's message is in the history even when no answer could be made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.events import EventKind, InboundEvent, MediaError
from bot.outbox import OutboundBatch, Outbox
from bot.platforms import Platforms
from bot.routing import STICKER_NOTE, InboundContext, Router
from bot.sender import Sender
from commerce.errors import ValidationError
from commerce.media_store import MediaStore
from commerce.services.conversation_service import ConversationService, ConversationView

log = logging.getLogger("chatcart.dispatch")

CUSTOMER_WROTE = {EventKind.TEXT, EventKind.IMAGE, EventKind.STICKER, EventKind.POSTBACK,
                  EventKind.REFERRAL}


class Dispatcher:
    def __init__(
        self, conversations: ConversationService, outbox: Outbox, sender: Sender,
        router: Router, platforms: Platforms, media: MediaStore, *,
        still_applies: Callable[[dict], bool] = lambda _c: True,
        max_media_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self._conversations, self._outbox, self._sender = conversations, outbox, sender
        self.router = router
        self._platforms, self._media = platforms, media
        self._still_applies = still_applies
        self._max_media = max_media_bytes

    def handle(self, event: InboundEvent) -> None:
        start = self._conversations.open_inbound(event.conversation, event.event_id,
                                                 event.timestamp)
        conv = start.conversation
        if start.handled:
            self._sender.resume(conv.id)
            return
        if not conv.display_name:
            conv = self._with_profile(conv)
        text = STICKER_NOTE if event.kind is EventKind.STICKER else (event.text or "")
        record = {"event_id": event.event_id, "kind": event.kind.value, "text": text,
                  "payload": {"postback": event.postback_data, "ref": event.referral_ref},
                  "at": event.timestamp}
        media_id, media_error = None, None
        if event.kind is EventKind.IMAGE and event.media is not None:
            media_id, media_error = self._fetch_media(event)
        ctx = InboundContext(event, conv, media_id, media_error)
        try:
            batches = self._batches(ctx, self.router.route(ctx))
        except Exception:
            if start.seen is None:  # keep the customer's message; retries find it
                self._conversations.record_inbound(conv.id, **record)
            raise

        # The event and its replies in one shared transaction, as Rows: the same
        # statements of the turns that share it go out as one (SharedWrites.run_rows).
        parts = self._conversations.handled_parts(conv.id, media_id=media_id,
                                                  seen=start.seen, **record)
        replies = self._outbox.rows(batches)
        if replies is None:
            self._outbox.writes.run_rows(*parts)
            pending = []
        else:
            *_, reply_ids = self._outbox.writes.run_rows(*parts, replies)
            pending = self._outbox.written(batches, reply_ids)
        if start.has_held and event.kind in CUSTOMER_WROTE:
            self._sender.release_held(conv.id, self._still_applies, conv)
        for item in pending:
            self._sender.deliver_pending(item, conv, written_now=True)

    def _batches(self, ctx: InboundContext, replies: list) -> list[OutboundBatch]:
        batches: list[OutboundBatch] = []
        token_used = False
        for reply in replies:
            if not reply.messages:
                continue
            target = reply.conversation_id or ctx.conversation.id
            give_token = target == ctx.conversation.id and not token_used
            token_used = token_used or give_token
            batches.append(OutboundBatch(
                conversation_id=target, messages=tuple(reply.messages),
                reply_token=ctx.event.reply_token if give_token else None,
                reply_token_at=ctx.event.timestamp if give_token else None,
                human=reply.human, automated_update=reply.automated_update,
                applies_if=reply.applies_if, internal=reply.internal,
            ))
        return batches

    def _with_profile(self, conv: ConversationView) -> ConversationView:
        try:
            if conv.channel == "line":
                channel = self._platforms.line_channel(conv.account)
                name = channel.client.profile(conv.user_id) if channel else None
            else:
                page = self._platforms.messenger_page(conv.account)
                name = page.client.profile(conv.user_id) if page else None
        except Exception:  # noqa: BLE001 - a missing name must not lose the message
            log.warning("profile lookup failed", extra={"conversation": conv.short_id})
            return conv
        if not name:
            return conv
        named = self._conversations.ensure(conv.key, name)
        return replace(conv, display_name=named.display_name)

    def _fetch_media(self, event: InboundEvent) -> tuple[int | None, str | None]:
        """Download right away: LINE content and Messenger URLs expire."""
        ref = event.media
        try:
            if ref.source == "line_content":
                channel = self._platforms.line_channel(event.account)
                data, _ = channel.client.content(ref.message_id, self._max_media)
            else:
                page = self._platforms.messenger_page(event.account)
                data, _ = page.client.fetch_attachment(ref.url, self._max_media)
            return self._media.save_image(data, source=f"chat:{event.channel.value}",
                                          max_bytes=self._max_media), None
        except ValidationError as exc:
            return None, exc.message
        except MediaError as exc:
            log.warning("media fetch failed: %s", exc, extra={"event_id": event.event_id})
            return None, "圖片已無法下載"
        except Exception as exc:  # noqa: BLE001 - network errors: keep the message, note it
            log.warning("media fetch failed: %r", exc, extra={"event_id": event.event_id})
            return None, "圖片下載失敗"

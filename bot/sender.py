"""Delivers outbox batches to LINE and Messenger.

Progress is kept per rendered part (in Redis) so a retry resumes after the last
part that went out instead of sending the first parts again; LINE pushes carry a
retry key derived from the batch and part, so even a push whose answer was lost
is not shown twice (LINE answers 409 for a key it already accepted).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

import redis

from bot.delivery_policy import (
    MessengerRoute,
    backoff_seconds,
    messenger_route,
    reply_token_usable,
)
from bot.line_client import LineApiError
from bot.line_render import render_line
from bot.messenger_client import MessengerApiError
from bot.messenger_render import render_messenger
from bot.outbox import Outbox, PendingBatch
from bot.platforms import Platforms
from commerce.services.conversation_service import ConversationService, ConversationView
from flows.keys import KeyBuilder

log = logging.getLogger("chatcart.sender")
RETRY_NAMESPACE = uuid.UUID("6f1c2d4e-8a8b-4c1e-9d55-2f7f3b7a9c01")
DONE = {"sent", "failed", "skipped"}

Notify = Callable[[ConversationView, str], None]


class Retry(Exception):
    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


class Undeliverable(Exception):
    pass


class Sender:
    def __init__(
        self, outbox: Outbox, platforms: Platforms, conversations: ConversationService,
        client: redis.Redis, keys: KeyBuilder, *, notify_merchant: Notify | None = None,
        on_push: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        sleep: Callable[[float], None] = time.sleep,
        inline_attempts: int = 3, max_attempts: int = 8, inline_wait_cap: float = 5.0,
    ) -> None:
        self._outbox, self._platforms, self._conversations = outbox, platforms, conversations
        self._redis, self._keys = client, keys
        self._notify = notify_merchant
        self._on_push = on_push
        self._clock, self._sleep = clock, sleep
        self._inline_attempts, self._max_attempts = inline_attempts, max_attempts
        self._inline_wait_cap = inline_wait_cap

    # -- entry points -------------------------------------------------------------

    def deliver(self, batch_id: str, conv: ConversationView | None = None) -> str:
        """Try to deliver one batch now; returns sent, held, failed, retry or done.

        ``conv`` may be given when the caller holds the batch's conversation as it
        is now (saves reading it again)."""
        pending = self._outbox.load(batch_id)
        if pending is None or all(s in DONE for s in pending.statuses):
            return "done"
        if any(s == "held" for s in pending.statuses):
            return "held"
        return self.deliver_pending(pending, conv)

    def deliver_pending(self, pending: PendingBatch, conv: ConversationView | None = None,
                        *, written_now: bool = False) -> str:
        """Deliver a batch the caller holds as ``Outbox.add`` returned it or ``load``
        read it: the worker delivers the replies it has just written without reading
        them back. Parts already sent (an earlier attempt) are skipped as ever.

        ``written_now``: the caller wrote the batch in this turn, so nothing has
        tried to deliver it yet. Only that first attempt may use the reply token
        (and it need not look for parts already sent). Every later attempt pushes,
        each part with its own retry key, because an earlier attempt may have
        pushed that part already: only the same key lets LINE drop the repeat."""
        batch_id = pending.batch.batch_id
        if conv is None or conv.id != pending.batch.conversation_id:
            conv = self._conversations.get(pending.batch.conversation_id)
        try:
            for attempt in range(self._inline_attempts):
                first = written_now and attempt == 0
                try:
                    ids, marked = self._send(conv, pending, first=first)
                    if marked or not first:  # progress or failed attempts to forget,
                        # which must outlive the rows' sent mark: wait for it
                        self._outbox.mark_sent([(pending.row_ids, ids)])
                        self._forget(batch_id)
                    else:  # the usual reply: nothing to clear after the mark
                        self._outbox.mark_sent([(pending.row_ids, ids)], wait=False)
                    return "sent"
                except Retry as retry:
                    total = self._redis.hincrby(self._attempts_key(), batch_id, 1)
                    if total >= self._max_attempts:
                        raise Undeliverable(f"多次重試仍失敗：{retry}") from None
                    if retry.delay > self._inline_wait_cap or attempt + 1 == self._inline_attempts:
                        self._outbox.schedule_retry(batch_id, retry.delay)
                        log.warning("delivery deferred", extra={"batch": batch_id,
                                                                 "delay": retry.delay})
                        return "retry"
                    self._sleep(retry.delay)
        except _Held as held:
            self._outbox.set_status(pending.row_ids, "held", error=str(held))
            self._tell_merchant(conv, pending, f"訊息暫緩：{held}")
            return "held"
        except Undeliverable as exc:
            self._outbox.set_status(pending.row_ids, "failed", error=str(exc))
            self._redis.hdel(self._attempts_key(), batch_id)
            self._tell_merchant(conv, pending, f"訊息未送達：{exc}")
            return "failed"
        return "retry"

    def release_held(self, conversation_id: int, still_applies: Callable[[dict], bool],
                     conv: ConversationView | None = None) -> int:
        """The customer wrote again: send held updates that still apply, drop the rest."""
        sent = 0
        for pending in self._outbox.open_batches(conversation_id, ("held",)):
            condition = pending.batch.applies_if
            if condition is not None and not still_applies(condition):
                self._outbox.set_status(pending.row_ids, "skipped", error="no longer applies")
                continue
            self._outbox.set_status(pending.row_ids, "queued")
            queued = PendingBatch(pending.batch, pending.row_ids, ["queued"] * len(pending.row_ids))
            sent += self.deliver_pending(queued, conv) == "sent"
        return sent

    def resume(self, conversation_id: int) -> None:
        """Deliver whatever is still queued for a conversation (after a crash)."""
        for pending in self._outbox.open_batches(conversation_id):
            self.deliver(pending.batch.batch_id)

    # -- channels -----------------------------------------------------------------

    def _send(self, conv: ConversationView, pending: PendingBatch, *, first: bool
              ) -> tuple[list[str], bool]:
        """Send the parts not sent yet; returns the platform's message ids and whether
        progress was written. ``first``: the batch's first attempt ever, so no part
        is sent yet (no need to ask Redis) and the reply token is ours.

        A part is marked as sent in Redis only when another part follows it: after
        the last part the batch's own ``sent`` mark in SQL is the next step, so a
        mark there would only narrow, by that one write, the window in which a
        crash makes a retry send the last part again. (A LINE push in that window
        is dropped by LINE thanks to its retry key; a reply or a Messenger message
        would show twice. That window exists with or without the mark.)"""
        done = set() if first else self._done_parts(pending.batch.batch_id)
        if conv.channel == "line":
            return self._send_line(conv, pending, done, use_token=first)
        return self._send_messenger(conv, pending, done)

    def _send_line(self, conv: ConversationView, pending: PendingBatch, done: set[int], *,
                   use_token: bool) -> tuple[list[str], bool]:
        channel = self._platforms.line_channel(conv.account)
        if channel is None:
            raise Undeliverable(f"LINE 帳號 {conv.account} 未設定")
        batch = pending.batch
        parts = render_line(batch.messages)
        token = use_token and reply_token_usable(batch.reply_token, batch.reply_token_at,
                                                 self._clock())
        ids: list[str] = []
        marked = False
        for index, part in enumerate(parts):
            if index in done:
                continue
            result = None
            if index == 0 and token:
                try:
                    result = channel.client.reply(batch.reply_token, part)
                except LineApiError as exc:
                    log.info("reply failed, pushing instead", extra={"status": exc.status})
            if result is None:
                key = str(uuid.uuid5(RETRY_NAMESPACE, f"{batch.batch_id}:{index}"))
                try:
                    result = channel.client.push(conv.user_id, part, retry_key=key)
                except LineApiError as exc:
                    if exc.is_monthly_limit:
                        raise Undeliverable("LINE 本月訊息額度已用完") from None
                    if exc.is_retryable:
                        raise Retry(self._delay(batch.batch_id, exc.retry_after),
                                    exc.message) from None
                    raise Undeliverable(f"LINE 拒絕：{exc.message}") from None
                if self._on_push is not None and not result.already_accepted:
                    self._on_push(conv.account)
            ids.extend(result.sent_message_ids)
            marked = self._mark_part(batch.batch_id, index, len(parts)) or marked
        return ids, marked

    def _send_messenger(self, conv: ConversationView, pending: PendingBatch, done: set[int]
                        ) -> tuple[list[str], bool]:
        page = self._platforms.messenger_page(conv.account)
        if page is None:
            raise Undeliverable(f"Messenger 粉絲專頁 {conv.account} 未設定")
        batch = pending.batch
        decision = messenger_route(conv.last_inbound_at, self._clock(), human=batch.human,
                                   automated_update=batch.automated_update)
        if decision.route is MessengerRoute.HOLD:
            raise _Held(decision.reason)
        if decision.route is MessengerRoute.REFUSE:
            raise Undeliverable(decision.reason)
        tag = "HUMAN_AGENT" if decision.route is MessengerRoute.HUMAN_AGENT else None
        messaging_type = "MESSAGE_TAG" if tag else "RESPONSE"
        ids: list[str] = []
        marked = False
        parts = render_messenger(batch.messages)
        for index, part in enumerate(parts):
            if index in done:
                continue
            try:
                ids.append(page.client.send(conv.user_id, part, messaging_type=messaging_type,
                                            tag=tag))
            except MessengerApiError as exc:
                if exc.is_outside_window and batch.automated_update:
                    raise _Held("Messenger 24 小時視窗已關閉") from None
                if exc.is_retryable:
                    raise Retry(self._delay(batch.batch_id, exc.retry_after),
                                exc.message) from None
                raise Undeliverable(f"Messenger 拒絕：{exc.message}") from None
            marked = self._mark_part(batch.batch_id, index, len(parts)) or marked
        return ids, marked

    # -- bookkeeping --------------------------------------------------------------

    def _forget(self, batch_id: str) -> None:
        """A delivered batch's progress and failed attempts, cleared once its rows
        are marked sent in SQL (before that they are what a retry resumes from)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.delete(self._progress_key(batch_id))
        pipe.hdel(self._attempts_key(), batch_id)
        pipe.execute()

    def _progress_key(self, batch_id: str) -> str:
        return self._keys.build("outbox:parts", batch_id)

    def _attempts_key(self) -> str:
        return self._keys.build("outbox:attempts")

    def _done_parts(self, batch_id: str) -> set[int]:
        return {int(x) for x in self._redis.smembers(self._progress_key(batch_id))}

    def _mark_part(self, batch_id: str, index: int, parts: int) -> bool:
        """Record that part ``index`` of ``parts`` went out, unless it is the last
        one (see ``_send``); True when a mark was written."""
        if index == parts - 1:
            return False
        key = self._progress_key(batch_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.sadd(key, index)
        pipe.expire(key, 7 * 24 * 3600)
        pipe.execute()
        return True

    def _delay(self, batch_id: str, retry_after: float | None) -> float:
        attempt = int(self._redis.hget(self._attempts_key(), batch_id) or 0)
        return backoff_seconds(attempt, retry_after)

    def _tell_merchant(self, conv: ConversationView, pending: PendingBatch, text: str) -> None:
        log.warning(text, extra={"conversation": conv.short_id,
                                 "batch": pending.batch.batch_id})
        if self._notify is not None and not pending.batch.internal:
            self._notify(conv, text)


class _Held(Exception):
    pass

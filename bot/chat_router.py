"""The production router: decides what answers each customer event.

In order: a merchant command from an admin; the conversation's active flow if it
is waiting for this input (an expired wait is timed out first, and the input then
routed as new); a flow trigger (a binding code typed or arriving by an ``m.me``
``bind-`` ref, an order card's confirm button, the upload-proof button, a photo
while orders await payment); a welcome on follow; and otherwise the merchant's
auto-reply, at most once per interval per conversation. The auto-reply does not
mark anything read: the message still waits for a person in the inbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.commands import CommandHandler
from bot.events import EventKind
from bot.flow_runner import ANSWERED, FlowRuntime
from bot.messages import Text
from bot.routing import InboundContext, Reply
from commerce.order_status import OrderStatus
from flows.binding_codes import normalize_code
from flows.definitions import binding, order_confirmation, payment_proof
from flows.definitions.stores import ISSUE_KIND as ISSUE_DETAILS_KIND
from flows.engine import FlowResult, Outcome

BIND_REF_PREFIX = "bind-"
#: Flow input for events a waiting state never accepts: only the deadline is checked.
NO_INPUT = "no_input"


@dataclass(frozen=True)
class Routed:
    replies: list[Reply]
    answered: bool


class ChatRouter:
    def __init__(self, runtime: FlowRuntime, commands: CommandHandler, *,
                 conversations: Any, orders: Any, auto_reply_interval: timedelta,
                 clock: Callable[[], datetime]) -> None:
        self._runtime = runtime
        self._commands = commands
        self._conversations = conversations
        self._orders = orders
        self._interval = auto_reply_interval
        self._clock = clock

    @property
    def _texts(self) -> Any:
        return self._runtime.services.texts

    def route(self, ctx: InboundContext) -> list[Reply]:
        event = ctx.event
        if event.kind is EventKind.TEXT:
            commanded = self._commands.handle(ctx)
            if commanded is not None:
                return commanded
        if event.kind is EventKind.UNFOLLOW:
            return []
        waiting = self._active_flow(ctx)
        if waiting.answered:
            return waiting.replies
        return waiting.replies + self._new(ctx)

    # -- the active flow --------------------------------------------------------

    def _active_flow(self, ctx: InboundContext) -> Routed:
        key = ctx.conversation.key
        if self._runtime.engine.active(key) is None:
            return Routed([], False)
        trigger, payload = self._flow_input(ctx)
        result = self._runtime.handle(key, trigger, payload)
        return Routed(self._runtime.replies(result.messages), result.outcome in ANSWERED)

    def _flow_input(self, ctx: InboundContext) -> tuple[str, dict]:
        event = ctx.event
        if event.kind is EventKind.TEXT:
            return "text", {"text": event.text or ""}
        if event.kind is EventKind.IMAGE and ctx.media_id is not None:
            return "image", {"media_id": ctx.media_id}
        if event.kind is EventKind.POSTBACK and not _bind_ref(event.referral_ref):
            name, _, argument = (event.postback_data or "").partition(":")
            if name == payment_proof.SKIP:
                return "skip", {}
            if name == payment_proof.CANCEL:
                return "cancel", {}
            if name == payment_proof.CHOOSE:
                return "choose", {"number": argument}
        return NO_INPUT, {}

    # -- new things ---------------------------------------------------------------

    def _new(self, ctx: InboundContext) -> list[Reply]:
        event = ctx.event
        code = _bind_ref(event.referral_ref)
        if code is not None:
            return self._bind(ctx, code)
        if event.kind is EventKind.POSTBACK:
            return self._postback(ctx, event.postback_data or "")
        if event.kind is EventKind.REFERRAL:
            return []
        if event.kind is EventKind.FOLLOW:
            return [self._say(self._texts("歡迎加入！有任何問題都可以直接留言，我們會盡快回覆。"))]
        if event.kind is EventKind.TEXT:
            code = normalize_code(event.text or "")
            if code is not None:
                return self._bind(ctx, code)
        if event.kind is EventKind.IMAGE:
            if ctx.media_id is None:
                return [self._say(self._texts("圖片未能保存（{reason}），請再傳一次。",
                                              reason=ctx.media_error or "?"))]
            proof = self._proof_from_image(ctx)
            if proof is not None:
                return proof
        return self._auto_reply(ctx)

    def _postback(self, ctx: InboundContext, data: str) -> list[Reply]:
        name, _, argument = data.partition(":")
        conv = ctx.conversation
        if name == f"order.{order_confirmation.CONFIRM}":
            number, _, card = argument.partition(":")
            payload = {"number": number, "card": card, "conversation_id": conv.id}
            return self._started(ctx, order_confirmation.NAME, "confirm", payload)
        if name == "proof.start" and argument:
            return self._started(ctx, payment_proof.NAME, "upload_requested",
                                 {"number": argument})
        if name == payment_proof.CHOOSE:
            return [self._say(self._texts("這個選項已失效，請再傳一次轉帳證明。"))]
        return [self._say(self._texts("這個按鈕已失效，請使用最新的訊息。"))]

    def _proof_from_image(self, ctx: InboundContext) -> list[Reply] | None:
        payable = self._orders.list(status=OrderStatus.AWAITING_PAYMENT,
                                    conversation_id=ctx.conversation.id,
                                    limit=payment_proof.MAX_CHOICES)
        if not payable:
            return None
        payload = {"media_id": ctx.media_id, "orders": [o.number for o in payable]}
        return self._started(ctx, payment_proof.NAME, "image", payload)

    def _bind(self, ctx: InboundContext, code: str) -> list[Reply]:
        runtime, conv = self._runtime, ctx.conversation
        payload: dict[str, Any] = {"conversation_id": conv.id,
                                   "display_name": conv.display_name or conv.user_id[:8]}
        attempt = runtime.codes.attempt(code, conv.key, runtime.attempts,
                                        details_kind=ISSUE_DETAILS_KIND)
        claim, unlock = attempt.claim, attempt.locked_until
        if claim is None:
            payload.update(outcome=attempt.outcome,
                           locked_until=unlock.isoformat() if unlock else None)
        else:
            payload.update(outcome="claimed", claim={
                "issue_id": claim.id, "visitor_id": claim.visitor_id,
                "member_ref": attempt.member_ref})
        return self._started(ctx, binding.NAME, "submit", payload)

    def _started(self, ctx: InboundContext, flow: str, trigger: str,
                 payload: dict) -> list[Reply]:
        conv = ctx.conversation
        data = {"conversation_id": conv.id, "customer": conv.label}
        result: FlowResult = self._runtime.start(conv.key, flow, trigger, payload, data)
        if result.outcome is Outcome.REJECTED and not result.messages:
            return [self._say(self._texts("暫時無法完成，請稍後再試一次。"))]
        return self._runtime.replies(result.messages)

    def _auto_reply(self, ctx: InboundContext) -> list[Reply]:
        now = self._clock()
        last = ctx.conversation.last_auto_reply_at
        if last is not None and now - last < self._interval:
            return []
        self._conversations.mark_auto_replied(ctx.conversation.id, now)
        return [self._say(self._texts.auto_reply())]

    @staticmethod
    def _say(text: str) -> Reply:
        return Reply((Text(text),))


def _bind_ref(ref: str | None) -> str | None:
    """The code in an ``m.me/<page>?ref=bind-<code>`` referral, if that is what it is."""
    if ref and ref.startswith(BIND_REF_PREFIX):
        return normalize_code(ref[len(BIND_REF_PREFIX):]) or ref[len(BIND_REF_PREFIX):]
    return None

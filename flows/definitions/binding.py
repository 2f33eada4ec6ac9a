"""Binding flow: a six-digit code (or an ``m.me`` ``bind-`` ref) arrives in the chat.

The code itself is consumed before the flow runs (one atomic ``GETDEL`` in
Redis decides which of many simultaneous senders gets it), and the wrong-attempt
limiter has already counted a miss; the flow gets the outcome as its payload and
decides what to say and what to write. It is an instant flow: started at
``received`` and ended by ``submit`` in one of the final states within one event.
Nothing in it waits, because the durable fact (the binding row) is in SQL and a
member link is confirmed later on the web page, not in the chat.

    received --submit[locked out]--------------> locked
    received --submit[claimed, already bound]--> already_bound  (marks the code used)
    received --submit[claimed, member token]---> bound          (+ "confirm on the page")
    received --submit[claimed]-----------------> bound
    received --submit[wrong, now locked]-------> locked
    received --submit--------------------------> wrong
"""

from __future__ import annotations

import math
from datetime import datetime

from flows.definitions.messages import text
from flows.engine import FlowContext, FlowDefinition, StateSpec, TransitionSpec

NAME = "binding"


def _payload(ctx: FlowContext, name: str) -> object:
    return ctx.payload.get(name)


def _claim(ctx: FlowContext) -> dict:
    return dict(ctx.payload.get("claim") or {})


def is_locked_out(ctx: FlowContext) -> bool:
    return _payload(ctx, "outcome") == "locked"


def claimed(ctx: FlowContext) -> bool:
    return _payload(ctx, "outcome") == "claimed" and bool(_claim(ctx))


def already_bound(ctx: FlowContext) -> bool:
    claim = _claim(ctx)
    return ctx.services.bindings.is_bound(claim["visitor_id"], ctx.payload["conversation_id"])


def for_member(ctx: FlowContext) -> bool:
    return bool(_claim(ctx).get("member_ref"))


def just_locked(ctx: FlowContext) -> bool:
    return _payload(ctx, "outcome") == "wrong" and bool(_payload(ctx, "locked_until"))


def bind(ctx: FlowContext) -> None:
    claim = _claim(ctx)
    ctx.command("binding.bind", issue_id=claim["issue_id"], visitor_id=claim["visitor_id"],
                conversation_id=ctx.payload["conversation_id"],
                display_name=ctx.payload.get("display_name") or "",
                member_ref=claim.get("member_ref"))


def say_success(ctx: FlowContext) -> None:
    ctx.say(text(ctx.services.texts.binding_success()))


def say_confirm_on_web(ctx: FlowContext) -> None:
    t = ctx.services.texts
    ctx.say(text(t("若要連結會員資料，請回到購物網頁確認是你本人；確認前只會傳送購物車通知。")))


def say_already(ctx: FlowContext) -> None:
    ctx.say(text(ctx.services.texts("你已經綁定過了，不需要再綁定一次。")))


def say_wrong(ctx: FlowContext) -> None:
    t = ctx.services.texts
    ctx.say(text(t("這個代碼不正確或已過期，請回到購物網頁重新取得代碼。")))


def say_locked(ctx: FlowContext) -> None:
    until = datetime.fromisoformat(str(ctx.payload["locked_until"]))
    minutes = max(1, math.ceil((until - ctx.now).total_seconds() / 60))
    t = ctx.services.texts
    ctx.say(text(t("代碼錯誤次數過多，請於 {minutes} 分鐘後再試。", minutes=minutes)))


def binding_flow() -> FlowDefinition:
    submit = "submit"
    return FlowDefinition(
        name=NAME,
        version=1,
        initial="received",
        states=(
            StateSpec("received"),
            StateSpec("bound", final=True),
            StateSpec("already_bound", final=True),
            StateSpec("wrong", final=True),
            StateSpec("locked", final=True),
        ),
        transitions=(
            TransitionSpec(submit, "received", "locked", conditions=("is_locked_out",),
                           actions=("say_locked",)),
            TransitionSpec(submit, "received", "already_bound",
                           conditions=("claimed", "already_bound"),
                           actions=("bind", "say_already")),
            TransitionSpec(submit, "received", "bound", conditions=("claimed", "for_member"),
                           actions=("bind", "say_success", "say_confirm_on_web")),
            TransitionSpec(submit, "received", "bound", conditions=("claimed",),
                           actions=("bind", "say_success")),
            TransitionSpec(submit, "received", "locked", conditions=("just_locked",),
                           actions=("say_wrong", "say_locked")),
            TransitionSpec(submit, "received", "wrong", actions=("say_wrong",)),
        ),
        guards={
            "is_locked_out": is_locked_out,
            "claimed": claimed,
            "already_bound": already_bound,
            "for_member": for_member,
            "just_locked": just_locked,
        },
        actions={
            "bind": bind,
            "say_success": say_success,
            "say_confirm_on_web": say_confirm_on_web,
            "say_already": say_already,
            "say_wrong": say_wrong,
            "say_locked": say_locked,
        },
    )

"""Payment-proof flow: a transfer slip reaches the right order, then the bot asks
for the paying account's last five digits (optional).

It starts at ``started`` and the router fires how it began: the customer tapped
"上傳轉帳證明" on an order (``upload_requested``), or simply sent a photo while
orders of this chat await payment (``image``). The waits are short and real: a
photo is expected, an order must be picked when several await payment (the
photo is kept in the flow's data meanwhile), and the digits may follow. The
proof is attached as soon as the order is known, so a customer who never
answers the digits question still has their proof with the merchant.

    started --upload_requested[payable]---> awaiting_image --image[payable]--> awaiting_last5
    started --image[one order]-------------------------------------------------> awaiting_last5
    started --image[several]---> choosing_order --choose[valid]---------------> awaiting_last5
    awaiting_last5 --text[5 digits] / text[skip word] / skip--> done
    choosing_order --timeout--> abandoned (the customer is asked to send it again)
    started --upload_requested / image[nothing payable]--> not_payable
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from commerce.errors import NotFound
from commerce.order_status import OrderStatus
from flows.binding_codes import normalize_code
from flows.definitions.messages import camera_roll, postback, text, to_admins
from flows.engine import SAME_STATE, FlowContext, FlowDefinition, StateSpec, TransitionSpec

NAME = "payment_proof"
SKIP = "proof.skip"
CHOOSE = "proof.order"
CANCEL = "proof.cancel"
#: ``started`` is left only when a command was refused twice; the sweeper clears it.
LEFTOVER_SECONDS = 120.0
MAX_CHOICES = 12  # LINE shows 13 quick replies; one is "取消"
SKIP_WORDS = frozenset({"略過", "跳過", "不用", "skip", "no"})
_DIGITS = re.compile(r"[0-9\s-]+")


def _order(services: Any, number: str) -> Any:
    try:
        return services.orders.get(number)
    except NotFound:
        return None


def _payable(ctx: FlowContext, number: str | None) -> bool:
    order = _order(ctx.services, number) if number else None
    return (order is not None and order.status is OrderStatus.AWAITING_PAYMENT
            and order.conversation_id == ctx.data.get("conversation_id"))


def _folded(ctx: FlowContext) -> str:
    return unicodedata.normalize("NFKC", str(ctx.payload.get("text") or "")).strip()


def requested_order_payable(ctx: FlowContext) -> bool:
    return _payable(ctx, ctx.payload.get("number"))


def one_candidate(ctx: FlowContext) -> bool:
    return len(ctx.payload.get("orders") or ()) == 1


def several_candidates(ctx: FlowContext) -> bool:
    return len(ctx.payload.get("orders") or ()) > 1


def chosen_order_payable(ctx: FlowContext) -> bool:
    return _payable(ctx, ctx.data.get("order"))


def choice_valid(ctx: FlowContext) -> bool:
    number = ctx.payload.get("number")
    return number in ctx.data.get("candidates", ()) and _payable(ctx, number)


def no_candidates_left(ctx: FlowContext) -> bool:
    return not any(_payable(ctx, n) for n in ctx.data.get("candidates", ()))


def is_last5(ctx: FlowContext) -> bool:
    digits = re.sub(r"[\s-]", "", _folded(ctx))
    return len(digits) == 5 and digits.isascii() and digits.isdigit()


def is_skip_word(ctx: FlowContext) -> bool:
    return _folded(ctx).lower() in SKIP_WORDS


def looks_like_digits(ctx: FlowContext) -> bool:
    """A mistyped account number gets asked again; a binding code passes on."""
    folded = _folded(ctx)
    return bool(_DIGITS.fullmatch(folded)) and normalize_code(folded) is None


def remember_requested(ctx: FlowContext) -> None:
    ctx.data["order"] = ctx.payload["number"]


def remember_image(ctx: FlowContext) -> None:
    ctx.data["media_id"] = ctx.payload["media_id"]
    ctx.data["candidates"] = list(ctx.payload["orders"])[:MAX_CHOICES]


def take_only_candidate(ctx: FlowContext) -> None:
    ctx.data["order"] = ctx.payload["orders"][0]
    ctx.data["media_id"] = ctx.payload["media_id"]


def take_image(ctx: FlowContext) -> None:
    ctx.data["media_id"] = ctx.payload["media_id"]


def take_choice(ctx: FlowContext) -> None:
    ctx.data["order"] = ctx.payload["number"]


def submit_proof(ctx: FlowContext) -> None:
    ctx.command("order.submit_proof", number=ctx.data["order"], media_id=ctx.data["media_id"])


def say_received(ctx: FlowContext) -> None:
    ctx.say(text(ctx.services.texts("已收到轉帳證明，等待商家核對")))


def notify_admins(ctx: FlowContext) -> None:
    services, number = ctx.services, ctx.data["order"]
    t = services.texts
    order = _order(services, number)
    body = t("【轉帳證明】{customer} 的訂單 {number}（{amount}）已上傳轉帳證明，請核對入帳。",
             customer=ctx.data.get("customer", ""), number=number,
             amount=t.money(order.total) if order else "")
    page = services.page_url(number)
    if page:
        body += "\n" + t("訂單頁：{url}", url=page)
    body += "\n" + t("核對無誤：/verify {number}；退回：/reject {number} 原因", number=number)
    ctx.say(to_admins(text(body)))


def prompt_image(ctx: FlowContext) -> None:
    t = ctx.services.texts
    ctx.say(text(t("請傳送訂單 {number} 的轉帳證明截圖或照片。", number=ctx.data["order"]),
                 quick_replies=[camera_roll(t("選擇照片"))]))


def ask_which(ctx: FlowContext) -> None:
    t = ctx.services.texts
    choices = []
    for number in ctx.data.get("candidates", ()):
        order = _order(ctx.services, number)
        if order is not None and order.status is OrderStatus.AWAITING_PAYMENT:
            label = f"#{number} {t.money(order.total)}"
            choices.append(postback(label, f"{CHOOSE}:{number}", label))
    choices.append(postback(t("取消"), CANCEL, t("取消")))
    ctx.say(text(t("你有多筆待付款訂單，這張轉帳證明是哪一筆訂單的？"), quick_replies=choices))


def ask_last5(ctx: FlowContext) -> None:
    t = ctx.services.texts
    ctx.say(text(t("方便的話，請輸入轉出帳號的末五碼，方便商家核對；不方便可點「略過」。"),
                 quick_replies=[postback(t("略過"), SKIP, t("略過"))]))


def ask_digits_again(ctx: FlowContext) -> None:
    t = ctx.services.texts
    ctx.say(text(t("請輸入 5 位數字的帳號末五碼，或點「略過」。"),
                 quick_replies=[postback(t("略過"), SKIP, t("略過"))]))


def save_last5(ctx: FlowContext) -> None:
    digits = re.sub(r"[\s-]", "", _folded(ctx))
    ctx.command("order.set_last5", number=ctx.data["order"], digits=digits)
    t = ctx.services.texts
    ctx.say(text(t("已記下帳號末五碼 {digits}，謝謝！", digits=digits)))


def say_skipped(ctx: FlowContext) -> None:
    ctx.say(text(ctx.services.texts("好的，商家會直接核對入帳，謝謝！")))


def say_not_payable(ctx: FlowContext) -> None:
    t = ctx.services.texts
    number = ctx.data.get("order") or ctx.payload.get("number")
    ctx.say(text(t("訂單 {number} 目前不需要上傳轉帳證明。", number=number)))


def say_no_order(ctx: FlowContext) -> None:
    ctx.say(text(ctx.services.texts("目前沒有等待付款的訂單，不需要上傳轉帳證明。")))


def say_cancelled(ctx: FlowContext) -> None:
    ctx.say(text(ctx.services.texts("好的，這張圖片不會當作轉帳證明。")))


def say_choice_missed(ctx: FlowContext) -> None:
    t = ctx.services.texts
    ctx.say(text(t("沒有收到你選擇的訂單，這張轉帳證明尚未送出；請再傳一次轉帳證明。")))


def payment_proof_flow(wait_seconds: float = 1800.0) -> FlowDefinition:
    """``wait_seconds``: how long each question waits (``flows.proof_wait_minutes``)."""
    received = ("submit_proof", "say_received", "notify_admins")
    return FlowDefinition(
        name=NAME,
        version=1,
        initial="started",
        states=(
            StateSpec("started", timeout_seconds=LEFTOVER_SECONDS),
            StateSpec("awaiting_image", timeout_seconds=wait_seconds, on_enter=("prompt_image",)),
            StateSpec("choosing_order", timeout_seconds=wait_seconds, on_enter=("ask_which",)),
            StateSpec("awaiting_last5", timeout_seconds=wait_seconds, on_enter=("ask_last5",)),
            StateSpec("done", final=True),
            StateSpec("not_payable", final=True),
            StateSpec("cancelled", final=True),
            StateSpec("abandoned", final=True),
        ),
        transitions=(
            TransitionSpec("upload_requested", "started", "awaiting_image",
                           conditions=("requested_order_payable",),
                           actions=("remember_requested",)),
            TransitionSpec("upload_requested", "started", "not_payable",
                           actions=("say_not_payable",)),
            TransitionSpec("image", "started", "awaiting_last5", conditions=("one_candidate",),
                           actions=("take_only_candidate", *received)),
            TransitionSpec("image", "started", "choosing_order",
                           conditions=("several_candidates",), actions=("remember_image",)),
            TransitionSpec("image", "started", "not_payable", actions=("say_no_order",)),
            TransitionSpec("image", "awaiting_image", "awaiting_last5",
                           conditions=("chosen_order_payable",),
                           actions=("take_image", *received)),
            TransitionSpec("image", "awaiting_image", "not_payable",
                           actions=("say_not_payable",)),
            TransitionSpec("choose", "choosing_order", "awaiting_last5",
                           conditions=("choice_valid",), actions=("take_choice", *received)),
            TransitionSpec("choose", "choosing_order", "not_payable",
                           conditions=("no_candidates_left",), actions=("say_no_order",)),
            TransitionSpec("choose", "choosing_order", SAME_STATE),
            TransitionSpec("cancel", ("awaiting_image", "choosing_order"), "cancelled",
                           actions=("say_cancelled",)),
            TransitionSpec("timeout", "choosing_order", "abandoned",
                           actions=("say_choice_missed",)),
            TransitionSpec("text", "awaiting_last5", "done", conditions=("is_last5",),
                           actions=("save_last5",)),
            TransitionSpec("text", "awaiting_last5", "done", conditions=("is_skip_word",),
                           actions=("say_skipped",)),
            TransitionSpec("text", "awaiting_last5", None, conditions=("looks_like_digits",),
                           actions=("ask_digits_again",)),
            TransitionSpec("skip", "awaiting_last5", "done", actions=("say_skipped",)),
        ),
        guards={
            "requested_order_payable": requested_order_payable,
            "one_candidate": one_candidate,
            "several_candidates": several_candidates,
            "chosen_order_payable": chosen_order_payable,
            "choice_valid": choice_valid,
            "no_candidates_left": no_candidates_left,
            "is_last5": is_last5,
            "is_skip_word": is_skip_word,
            "looks_like_digits": looks_like_digits,
        },
        actions={
            "remember_requested": remember_requested,
            "remember_image": remember_image,
            "take_only_candidate": take_only_candidate,
            "take_image": take_image,
            "take_choice": take_choice,
            "submit_proof": submit_proof,
            "say_received": say_received,
            "notify_admins": notify_admins,
            "prompt_image": prompt_image,
            "ask_which": ask_which,
            "ask_last5": ask_last5,
            "ask_digits_again": ask_digits_again,
            "save_last5": save_last5,
            "say_skipped": say_skipped,
            "say_not_payable": say_not_payable,
            "say_no_order": say_no_order,
            "say_cancelled": say_cancelled,
            "say_choice_missed": say_choice_missed,
        },
    )

"""``/help`` and ``/admin <code>`` (the only command a non-admin may use)."""

from __future__ import annotations

from bot.commands.context import CommandDeps, Handler, answer
from bot.commands.parser import CUSTOMER_HINT, USAGE, Invocation, UsageError
from bot.routing import InboundContext, Reply


def show_help(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    lines = ["管理員指令："] + list(USAGE.values()) + ["", CUSTOMER_HINT]
    return [answer("\n".join(lines))]


def register(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    """Redeem a one-time code from ``chatcart admin invite`` for the sender's chat."""
    if len(inv.words) != 1:
        raise UsageError("admin")
    conv = ctx.conversation
    if deps.admins.is_admin(conv.channel, conv.account, conv.user_id):
        return [answer("你已經是管理員了。輸入 /help 查看指令。")]
    identity = (conv.channel, conv.account, conv.user_id)
    if not deps.admins.redeem(inv.words[0], identity, conv.display_name):
        return [answer("邀請碼無效、已使用或已過期。請用 chatcart admin invite 產生新的邀請碼。")]
    return [answer("已登記為管理員！輸入 /help 查看指令。")]


HANDLERS: dict[str, Handler] = {"help": show_help}

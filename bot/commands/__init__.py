"""Merchant commands typed in the chat (``/help`` lists them).

Only registered admins may use them; anyone else who types a slash gets the
normal customer behaviour, except ``/admin <code>``, which is how an admin
registers. A command that does not fit its usage, or that the shop refuses
(an unknown SKU, an order in the wrong state), answers with the reason and the
usage line and changes nothing.
"""

from __future__ import annotations

from bot.commands import admin, customers, orders
from bot.commands.context import CommandDeps, Handler, answer
from bot.commands.parser import USAGE, UsageError, parse
from bot.routing import InboundContext, Reply
from commerce.errors import DomainError

__all__ = ["CommandDeps", "CommandHandler"]


class CommandHandler:
    def __init__(self, deps: CommandDeps) -> None:
        self._deps = deps
        self._handlers: dict[str, Handler] = {**admin.HANDLERS, **orders.HANDLERS,
                                              **customers.HANDLERS}

    def handle(self, ctx: InboundContext) -> list[Reply] | None:
        """Replies when the text is a command this sender may use, else None."""
        invocation = parse(ctx.event.text or "")
        if invocation is None:
            return None
        conv = ctx.conversation
        name = invocation.name
        try:
            if name == "admin":
                return admin.register(self._deps, ctx, invocation)
            if not self._deps.admins.is_admin(conv.channel, conv.account, conv.user_id):
                return None
            handler = self._handlers.get(name)
            if handler is None:
                return [answer(f"沒有 /{name} 這個指令。輸入 /help 查看所有指令。")]
            return handler(self._deps, ctx, invocation)
        except UsageError as exc:
            return [answer(str(exc))]
        except DomainError as exc:
            return [answer(f"{exc.message}\n用法：{USAGE.get(name, '/help')}")]

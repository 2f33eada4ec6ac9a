"""Customer commands: ``/tag``, ``/note`` and ``/customers``."""

from __future__ import annotations

from bot.commands.context import CommandDeps, Handler, answer
from bot.commands.parser import Invocation, UsageError
from bot.commands.targets import customer_id_of, resolve
from bot.routing import InboundContext, Reply

RECENT_LIMIT = 10
CHANNEL_NAMES = {"line": "LINE", "messenger": "Messenger"}


def tag(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    if len(inv.words) != 2:
        raise UsageError("tag")
    target = resolve(deps, inv.words[0])
    deps.customers.add_tag(customer_id_of(deps, target), inv.after(1))
    return [answer(f"已為 {target.label} 加上標籤「{inv.after(1)}」。")]


def note(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    if len(inv.words) < 2:
        raise UsageError("note")
    target = resolve(deps, inv.words[0])
    deps.customers.add_note(customer_id_of(deps, target), inv.after(1))
    return [answer(f"已為 {target.label} 加上備註。")]


def recent(deps: CommandDeps, ctx: InboundContext, inv: Invocation) -> list[Reply]:
    found = deps.conversations.recent(inv.rest.strip(), limit=RECENT_LIMIT)
    if not found:
        return [answer("找不到符合的對話。")]
    rows = [f"{c.short_id}  {c.display_name or c.user_id[:8]}  "
            f"{CHANNEL_NAMES.get(c.channel, c.channel)}" for c in found]
    return [answer("最近的對話（短代碼 名稱 頻道）：\n" + "\n".join(rows))]


HANDLERS: dict[str, Handler] = {"tag": tag, "note": note, "customers": recent}

"""Reading a merchant command line: the name, its words, and the usage of each.

Commands are typed on a phone, often with a Chinese keyboard, so the name and
each word are NFKC-folded (full-width ``／``, ``＊`` and digits become ASCII). A command
whose words do not fit answers with its usage line and changes nothing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

USAGE: dict[str, str] = {
    "help": "/help — 列出所有指令",
    "admin": "/admin <邀請碼> — 以 chatcart admin invite 產生的一次性邀請碼登記為管理員",
    "order": "/order <顧客> <商品編號>*<數量> ... [ship=<配送代碼>] [pay=<付款代碼>] "
             "[note=<備註>] — 建立訂單並傳給顧客確認；/order <訂單編號> — 查看訂單",
    "orders": "/orders [狀態] — 最近的訂單，可依狀態篩選（例如 待付款、awaiting_payment）",
    "verify": "/verify <訂單編號> — 已核對入帳，訂單改為已付款並通知顧客",
    "reject": "/reject <訂單編號> <原因> — 退回轉帳證明，請顧客重新上傳",
    "ship": "/ship <訂單編號> [物流單號] — 出貨並通知顧客",
    "cancel": "/cancel <訂單編號> — 取消訂單並釋出庫存",
    "resend": "/resend <訂單編號> — 重新傳送訂單確認（舊的訂單訊息隨即失效）",
    "tag": "/tag <顧客> <標籤> — 幫顧客加上標籤",
    "note": "/note <顧客> <備註> — 幫顧客加上備註",
    "customers": "/customers [關鍵字] — 最近的對話：短代碼、名稱、頻道",
}

CUSTOMER_HINT = "<顧客> 是對話短代碼（每則通知括號內的代碼）或會員的手機、Email。"


class UsageError(Exception):
    """The words do not fit the command; ``str()`` is the answer to show."""

    def __init__(self, name: str, problem: str = "") -> None:
        usage = USAGE.get(name, "/help")
        super().__init__(f"{problem}\n用法：{usage}".strip())
        self.name = name


@dataclass(frozen=True)
class Invocation:
    """``name`` without the slash, lower-cased; ``words`` split on whitespace;
    ``rest`` the line after the name with its spacing kept (for free text)."""

    name: str
    words: tuple[str, ...]
    rest: str

    def after(self, count: int) -> str:
        """The line after the first ``count`` words, spacing kept (a reason, a note)."""
        remainder = self.rest
        for _ in range(count):
            remainder = remainder.lstrip()
            cut = len(remainder.split(maxsplit=1)[0]) if remainder.split() else 0
            remainder = remainder[cut:]
        return remainder.strip()


def parse(text: str) -> Invocation | None:
    """An invocation if ``text`` looks like a command (starts with ``/``), else None.

    The words are folded; ``rest`` is not, so a reason or a note keeps the
    merchant's full-width punctuation."""
    raw = text.strip()
    parts = raw[1:].split(maxsplit=1) if raw[:1] in ("/", "／") else []
    head = unicodedata.normalize("NFKC", parts[0]) if parts else ""
    if not head or not head.isascii():
        return None
    rest = parts[1] if len(parts) > 1 else ""
    words = tuple(unicodedata.normalize("NFKC", word) for word in rest.split())
    return Invocation(head.lower(), words, rest)

"""Reading the transfer-proof form: the optional fields are checked before the
image is stored, so a typo in the account digits does not leave an orphan file."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict


class FormProblem(ValueError):
    """A field the customer must correct; ``message`` is a msgid of the web catalog."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProofFields:
    account_last5: str | None
    transferred_at: datetime | None


def read_fields(form: MultiDict, zone_name: str, now: datetime) -> ProofFields:
    """Last five digits (full-width digits accepted) and the transfer time, typed in
    the store's time zone (``datetime-local`` has none) and kept in UTC."""
    last5 = unicodedata.normalize("NFKC", form.get("account_last5", "")).strip()
    if last5 and not (len(last5) == 5 and last5.isascii() and last5.isdigit()):
        raise FormProblem("帳號末五碼需為 5 位數字")
    typed = form.get("transferred_at", "").strip()
    transferred_at = None
    if typed:
        try:
            naive = datetime.fromisoformat(typed)
        except ValueError:
            raise FormProblem("轉帳時間格式不正確") from None
        if naive.tzinfo is not None:
            raise FormProblem("轉帳時間格式不正確")
        transferred_at = naive.replace(tzinfo=ZoneInfo(zone_name)).astimezone(timezone.utc)
        if transferred_at > now:
            raise FormProblem("轉帳時間不能晚於現在")
    return ProofFields(last5 or None, transferred_at)

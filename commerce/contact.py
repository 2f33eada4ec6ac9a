"""Normalising the contact details customers type: Taiwan mobiles and e-mails."""

from __future__ import annotations

import re
import unicodedata

from commerce.errors import ValidationError

_MOBILE = re.compile(r"^09\d{8}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_tw_mobile(raw: str) -> str:
    """``0912-345-678``, ``+886 912 345 678`` or full-width digits -> ``0912345678``."""
    text = unicodedata.normalize("NFKC", raw).strip()
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("+886"):
        rest = digits[4:]
        digits = rest if rest.startswith("0") else "0" + rest
    elif digits.startswith("886") and len(digits) == 12:
        digits = "0" + digits[3:]
    if not _MOBILE.match(digits):
        raise ValidationError(
            f"手機號碼格式不正確：{raw!r}（需為 09 開頭的 10 碼）", field="phone"
        )
    return digits


def normalize_email(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValidationError(f"電子郵件格式不正確：{raw!r}", field="email")
    return text

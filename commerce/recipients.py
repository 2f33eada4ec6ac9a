"""Recipients: who collects the parcel, checked the way carriers check them (commerce-tw.md §3).

A convenience-store clerk compares the pickup name with an ID card and the phone's last
three digits, so the name rules are the chains' own (4-10 "bytes", no digits or
symbols). Cross-border carriers print labels in Latin script, so destinations marked
``latin_only`` (see ``commerce.delivery.Destination``) need a romanised name and an
address with a postcode.

Split from ``commerce.delivery``, which still re-exports these names for its callers.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict

from commerce.contact import normalize_tw_mobile as normalize_mobile
from commerce.delivery import (
    DeliveryMethod,
    Destination,
    PickupStore,
    check_destination,
    is_home_delivery,
    is_store_pickup,
)
from commerce.errors import ValidationError

# Places without a postcode system: the address check must not ask for one.
_NO_POSTCODE_DESTINATIONS = {"HK", "MO"}
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_CVS_FORBIDDEN = set("^'`!@#%&*+\\\"<>|_[]")
_LATIN_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z .,'-]{1,49}$")
_POSTCODE_TOKEN_RE = re.compile(r"(?=.*[0-9])[A-Za-z0-9-]{4,10}")


class Recipient(BaseModel):
    """A recipient after normalisation, ready to store on the order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    phone: str
    address: str | None = None
    destination: str = "TW"
    store: PickupStore | None = None


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _foreign_phone(phone: str) -> str:
    digits = re.sub(r"[\s\-().]", "", _clean(phone))
    if not re.fullmatch(r"\+?[0-9]{8,15}", digits):
        raise ValidationError("電話需為含國碼的 8–15 位數字", field="phone")
    return digits


def validate_cvs_name(name: str) -> str:
    """Pickup name as on the ID card: 4-10 "bytes", a Chinese character counting two."""
    name = _clean(name)
    if any(ch.isdigit() for ch in name):
        raise ValidationError("取件人姓名不可包含數字", field="name")
    if any(ch.isspace() for ch in name):
        raise ValidationError("取件人姓名不可包含空白", field="name")
    bad = sorted({ch for ch in name if ch in _CVS_FORBIDDEN})
    if bad:
        raise ValidationError(f"取件人姓名不可包含 {' '.join(bad)}", field="name")
    if not all(_CJK_RE.match(ch) or ch.isascii() and ch.isalpha() for ch in name):
        raise ValidationError("取件人姓名只能使用中文或英文字母", field="name")
    size = sum(2 if _CJK_RE.match(ch) else 1 for ch in name)
    if not 4 <= size <= 10:
        raise ValidationError(
            "取件人姓名需為 2–5 個中文字或 4–10 個英文字母，且與證件相同", field="name"
        )
    return name


def _latin_name(name: str) -> str:
    name = " ".join(_clean(name).split())
    if not _LATIN_NAME_RE.fullmatch(name):
        raise ValidationError("寄往此地區，收件人姓名請以英文（拼音）填寫", field="name")
    return name


def _home_address(address: str | None, destination: Destination | None) -> str:
    address = " ".join(_clean(address or "").split())
    if destination is not None and destination.latin_only:
        if not address.isascii() or not 6 <= len(address) <= 120:
            raise ValidationError("寄往此地區，地址請以英文填寫（6–120 字元）", field="address")
        if destination.code not in _NO_POSTCODE_DESTINATIONS and not any(
            _POSTCODE_TOKEN_RE.fullmatch(token) for token in re.split(r"[\s,]+", address)
        ):
            raise ValidationError("地址需包含郵遞區號", field="address")
    elif not 6 <= len(address) <= 60:
        raise ValidationError("地址需為 6–60 個字", field="address")
    return address


def validate_recipient(
    method: DeliveryMethod,
    name: str,
    phone: str,
    address: str | None = None,
    destination: str | None = None,
    store: PickupStore | None = None,
) -> Recipient:
    """Normalise and check a recipient for ``method``; the first broken rule is raised."""
    dest = check_destination(method, destination)
    if dest is not None and dest.latin_only:
        clean_name = _latin_name(name)
    elif is_store_pickup(method):
        clean_name = validate_cvs_name(name)
    else:
        clean_name = _clean(name)
        if not 1 <= len(clean_name) <= 30:
            raise ValidationError("收件人姓名需為 1–30 個字", field="name")
    clean_phone = normalize_mobile(phone) if dest is None else _foreign_phone(phone)
    clean_address = _home_address(address, dest) if is_home_delivery(method) else None
    if is_store_pickup(method):
        country = dest.code if dest is not None else "TW"
        if store is None:
            raise ValidationError("請選擇取貨門市", field="store")
        if store.chain is not method.chain or store.country != country:
            raise ValidationError(f"此門市不屬於 {method.name}", field="store")
    else:
        store = None
    return Recipient(
        name=clean_name,
        phone=clean_phone,
        address=clean_address,
        destination=dest.code if dest is not None else "TW",
        store=store,
    )

"""The buyer's e-invoice choice and the company tax split (commerce-tw.md §1, §2).

Buyers type carrier numbers on phones, often with a full-width keyboard, so every code
is NFKC-normalised, trimmed and upper-cased before it is checked. Each bad format gets
its own message: "invalid invoice" tells a buyer nothing about which box to fix.

Checks here are about format only. Whether a barcode or love code is registered is a
provider call made by the service layer (accept and flag for review when it is down).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from commerce.errors import ValidationError
from commerce.money import allocate, round_half_up


class InvoiceKind(str, enum.Enum):
    PERSONAL = "personal"
    COMPANY = "company"
    DONATION = "donation"


class CarrierType(str, enum.Enum):
    """Our own carrier names; each provider adapter maps them to its codes."""

    MOBILE_BARCODE = "mobile_barcode"
    CITIZEN_CERTIFICATE = "citizen_certificate"
    MEMBER = "member"


_MOBILE_BARCODE_RE = re.compile(r"/[0-9A-Z.+\-]{7}")
_CITIZEN_CERTIFICATE_RE = re.compile(r"[A-Z]{2}[0-9]{14}")
# Some SDKs also take X + 2-6 digits; we accept such codes but never suggest them.
_LOVE_CODE_RE = re.compile(r"[0-9]{3,7}|X[0-9]{2,6}")
_UBN_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)
_CODE_FIELDS = ("carrier_number", "ubn", "love_code")
_TEXT_FIELDS = ("company_title", "paper_name", "paper_address")


def ubn_is_valid(ubn: str) -> bool:
    """Checksum of a company's unified business number (統一編號), 2023 rule.

    The Ministry of Finance moved from % 10 to % 5 in April 2023; every number valid
    under the old rule stays valid under the new one.
    """
    if not re.fullmatch(r"[0-9]{8}", ubn):
        return False
    products = (int(d) * w for d, w in zip(ubn, _UBN_WEIGHTS, strict=True))
    total = sum(p // 10 + p % 10 for p in products)
    return total % 5 == 0 or (ubn[6] == "7" and (total + 1) % 5 == 0)


def company_tax_split(total: int, rate_percent: int = 5) -> tuple[int, int]:
    """Split a tax-inclusive total into (sales, tax) for a company buyer's invoice."""
    sales = round_half_up(total * 100, 100 + rate_percent)
    return sales, total - sales


def company_line_sales(line_totals: Sequence[int], keys: Sequence[str]) -> list[int]:
    """Pre-tax amount per invoice line, summing exactly to the invoice's sales.

    Rounding each line ÷ 1.05 on its own would not add up to the header amount.
    """
    sales, _ = company_tax_split(sum(line_totals))
    return allocate(sales, line_totals, keys)


def _normalise(value: Any, *, upper: bool) -> Any:
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFKC", value).strip()
    return (value.upper() if upper else value) or None


def _bad(message: str, field: str) -> ValidationError:
    return ValidationError(message, field=field)


class InvoiceChoice(BaseModel):
    """How the buyer wants the invoice: personal carrier, company, donation, or paper.

    ``paper`` asks for a printed invoice posted to ``paper_name``/``paper_address``;
    a personal buyer then has no carrier, and a donation is never printed.
    Invalid input raises ``commerce.errors.ValidationError`` naming the field.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: InvoiceKind
    carrier_type: CarrierType | None = None
    carrier_number: str | None = None
    ubn: str | None = None
    company_title: str | None = None
    love_code: str | None = None
    paper: bool = False
    paper_name: str | None = None
    paper_address: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise_input(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name in _CODE_FIELDS:
            data[name] = _normalise(data.get(name), upper=True)
        for name in _TEXT_FIELDS:
            data[name] = _normalise(data.get(name), upper=False)
        return data

    @model_validator(mode="after")
    def _check_rules(self) -> InvoiceChoice:
        if self.kind is InvoiceKind.DONATION:
            self._check_donation()
        else:
            if self.love_code:
                raise _bad("愛心碼只用於捐贈發票", "love_code")
            if self.kind is InvoiceKind.COMPANY:
                self._check_company()
            elif self.ubn or self.company_title:
                raise _bad("要填統一編號，請選擇公司發票", "ubn")
            self._check_carrier()
        if self.paper and not (self.paper_name and self.paper_address):
            raise _bad("紙本發票需要收件人姓名與地址", "paper_address")
        return self

    def _check_donation(self) -> None:
        if self.ubn:
            raise _bad("捐贈發票不能填統一編號", "ubn")
        if self.carrier_type or self.carrier_number:
            raise _bad("捐贈發票不能存入載具", "carrier_type")
        if self.paper:
            raise _bad("捐贈發票不會列印", "paper")
        if not self.love_code or not _LOVE_CODE_RE.fullmatch(self.love_code):
            raise _bad("愛心碼為 3–7 位數字", "love_code")

    def _check_company(self) -> None:
        if not self.ubn or not re.fullmatch(r"[0-9]{8}", self.ubn):
            raise _bad("統一編號為 8 位數字", "ubn")
        if not ubn_is_valid(self.ubn):
            raise _bad("統一編號檢查碼不符，請確認號碼", "ubn")
        if not self.company_title or len(self.company_title) > 60:
            raise _bad("公司抬頭必填，最多 60 字", "company_title")
        if self.carrier_type not in (None, CarrierType.MOBILE_BARCODE):
            raise _bad("公司發票只能使用手機條碼載具", "carrier_type")

    def _check_carrier(self) -> None:
        if self.paper:
            if self.carrier_type or self.carrier_number:
                raise _bad("紙本發票不能同時存入載具", "carrier_type")
            return
        if self.carrier_type is None:
            if self.kind is InvoiceKind.PERSONAL:
                raise _bad("請選擇發票載具，或索取紙本發票", "carrier_type")
            if self.carrier_number:
                raise _bad("請選擇載具類型", "carrier_type")
            return
        number = self.carrier_number or ""
        if self.carrier_type is CarrierType.MEMBER:
            if number:
                raise _bad("會員載具不需要輸入號碼", "carrier_number")
        elif self.carrier_type is CarrierType.MOBILE_BARCODE:
            if not _MOBILE_BARCODE_RE.fullmatch(number):
                raise _bad(
                    "手機條碼為 / 加 7 碼（0-9、A-Z、. + -）",
                    "carrier_number",
                )
        elif not _CITIZEN_CERTIFICATE_RE.fullmatch(number):
            raise _bad("自然人憑證條碼為 2 個英文字母加 14 位數字", "carrier_number")

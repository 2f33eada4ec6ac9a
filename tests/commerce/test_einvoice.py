"""E-invoice choices, the UBN checksum and the company tax split."""

from __future__ import annotations

import pytest

from commerce.einvoice import (
    CarrierType,
    InvoiceChoice,
    InvoiceKind,
    company_line_sales,
    company_tax_split,
    ubn_is_valid,
)
from commerce.errors import ValidationError

VALID_BOTH = ["04595257", "10458575", "22099131", "53212539", "88117125", "12345675", "10458574"]
VALID_NEW_ONLY = ["62140097", "04595252", "00501508", "12345670", "00000074"]
INVALID = ["12345678", "11111111", "04595258", "00501502", "88117126", "00000073"]


def old_rule(ubn: str) -> bool:
    """The pre-2023 % 10 rule, to show the table's middle column really is new."""
    products = (int(d) * w for d, w in zip(ubn, (1, 2, 1, 2, 1, 2, 4, 1), strict=True))
    total = sum(p // 10 + p % 10 for p in products)
    return total % 10 == 0 or (ubn[6] == "7" and (total + 1) % 10 == 0)


@pytest.mark.parametrize("ubn", VALID_BOTH + VALID_NEW_ONLY)
def test_ubn_valid(ubn):
    assert ubn_is_valid(ubn)


@pytest.mark.parametrize("ubn", INVALID + ["1234567", "123456789", "1234567a", "１２３４５６７５"])
def test_ubn_invalid(ubn):
    assert not ubn_is_valid(ubn)


@pytest.mark.parametrize(
    ("ubn", "old_valid"), [(u, True) for u in VALID_BOTH] + [(u, False) for u in VALID_NEW_ONLY]
)
def test_table_columns_match_the_old_rule(ubn, old_valid):
    assert old_rule(ubn) is old_valid


@pytest.mark.parametrize(
    ("total", "sales", "tax"),
    [
        (1000, 952, 48),
        (5500, 5238, 262),
        (52500, 50000, 2500),
        (10, 10, 0),
        (0, 0, 0),
        (1137, 1083, 54),
    ],
)
def test_company_tax_split(total, sales, tax):
    assert company_tax_split(total) == (sales, tax)


def test_company_line_sales_sum_to_the_header_sales():
    lines = [801, 286, 109, 60]
    parts = company_line_sales(lines, ["A", "B", "C", "ship"])
    assert sum(parts) == company_tax_split(sum(lines))[0]
    assert parts == [763, 272, 104, 57]


def personal(**fields):
    return InvoiceChoice(kind="personal", **fields)


@pytest.mark.parametrize(
    ("carrier_type", "raw", "stored"),
    [
        ("mobile_barcode", "/ABC+123", "/ABC+123"),
        ("mobile_barcode", "/-F-K0PR", "/-F-K0PR"),
        ("mobile_barcode", " ／abc.123 ", "/ABC.123"),
        ("citizen_certificate", "ab12345678901234", "AB12345678901234"),
        ("citizen_certificate", "ＡＢ１２３４５６７８９０１２３４", "AB12345678901234"),
    ],
)
def test_personal_carrier_normalised(carrier_type, raw, stored):
    choice = personal(carrier_type=carrier_type, carrier_number=raw)
    assert choice.carrier_number == stored


def test_member_carrier_needs_no_number():
    assert personal(carrier_type="member").carrier_type is CarrierType.MEMBER
    with pytest.raises(ValidationError, match="不需要輸入號碼"):
        personal(carrier_type="member", carrier_number="/ABC+123")


@pytest.mark.parametrize(
    ("carrier_type", "raw", "message"),
    [
        ("mobile_barcode", "ABC1234", "手機條碼"),
        ("mobile_barcode", "/ABC12345", "手機條碼"),
        ("mobile_barcode", "/ABC 123", "手機條碼"),
        ("mobile_barcode", None, "手機條碼"),
        ("citizen_certificate", "A123456789012345", "自然人憑證"),
        ("citizen_certificate", "AB1234567890123", "自然人憑證"),
    ],
)
def test_bad_carrier_number(carrier_type, raw, message):
    with pytest.raises(ValidationError, match=message) as err:
        personal(carrier_type=carrier_type, carrier_number=raw)
    assert err.value.field == "carrier_number"


def test_personal_needs_a_carrier_or_paper():
    with pytest.raises(ValidationError, match="請選擇發票載具") as err:
        personal()
    assert err.value.field == "carrier_type"
    printed = personal(paper=True, paper_name="王小明", paper_address="台北市信義路一段1號")
    assert printed.paper
    with pytest.raises(ValidationError, match="不能同時存入載具"):
        personal(paper=True, paper_name="王", paper_address="台北", carrier_type="member")
    with pytest.raises(ValidationError, match="姓名與地址"):
        personal(paper=True, paper_name="王小明")


def test_personal_refuses_company_and_donation_fields():
    with pytest.raises(ValidationError, match="公司發票") as err:
        personal(carrier_type="member", ubn="04595257")
    assert err.value.field == "ubn"
    with pytest.raises(ValidationError, match="只用於捐贈") as err:
        personal(carrier_type="member", love_code="168")
    assert err.value.field == "love_code"


def company(**fields):
    return InvoiceChoice(kind="company", **{"ubn": "04595257", "company_title": "好店", **fields})


def test_company_choice():
    choice = company(ubn=" ０４５９５２５７ ", company_title=" 好店有限公司 ")
    assert (choice.kind, choice.ubn, choice.company_title) == (
        InvoiceKind.COMPANY,
        "04595257",
        "好店有限公司",
    )
    assert company(carrier_type="mobile_barcode", carrier_number="/ABC+123").carrier_number


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"ubn": "1234567"}, "ubn", "8 位數字"),
        ({"ubn": None}, "ubn", "8 位數字"),
        ({"ubn": "12345678"}, "ubn", "檢查碼"),
        ({"company_title": None}, "company_title", "公司抬頭"),
        ({"company_title": "公" * 61}, "company_title", "60"),
        ({"carrier_type": "member"}, "carrier_type", "只能使用手機條碼"),
        (
            {"carrier_type": "citizen_certificate", "carrier_number": "AB12345678901234"},
            "carrier_type",
            "只能使用手機條碼",
        ),
        ({"love_code": "168"}, "love_code", "捐贈"),
        ({"carrier_number": "/ABC+123"}, "carrier_type", "載具類型"),
    ],
)
def test_bad_company_choice(fields, field, message):
    with pytest.raises(ValidationError, match=message) as err:
        company(**fields)
    assert err.value.field == field


def test_company_title_of_sixty_characters_is_accepted():
    assert len(company(company_title="公" * 60).company_title) == 60


@pytest.mark.parametrize("code", ["168", "8585", "1234567", "x123", "X123456"])
def test_love_codes_accepted(code):
    assert InvoiceChoice(kind="donation", love_code=code).love_code == code.upper()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"love_code": "12"}, "love_code"),
        ({"love_code": "12345678"}, "love_code"),
        ({"love_code": "X1"}, "love_code"),
        ({}, "love_code"),
        ({"love_code": "168", "ubn": "04595257"}, "ubn"),
        ({"love_code": "168", "carrier_type": "member"}, "carrier_type"),
        ({"love_code": "168", "paper": True, "paper_name": "王", "paper_address": "台北"}, "paper"),
    ],
)
def test_bad_donation(fields, field):
    with pytest.raises(ValidationError) as err:
        InvoiceChoice(kind="donation", **fields)
    assert err.value.field == field

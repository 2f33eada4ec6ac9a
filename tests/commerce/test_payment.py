"""Payment methods: config checks and which methods go with which delivery."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pydantic
import pytest

from commerce.delivery import DeliveryMethod
from commerce.payment import PaymentKind, PaymentMethod, available_payment_methods, compatible

BANK_FIELDS = {
    "bank_name": "台新銀行",
    "bank_code": "812",
    "account_number": "20011234567890",
    "account_name": "小店有限公司",
}

BANK = PaymentMethod(code="bank", kind="bank_transfer", name="銀行轉帳", **BANK_FIELDS)
PICKUP_PAY = PaymentMethod(code="pickup", kind="pay_at_pickup", name="取貨付款")
COD = PaymentMethod(code="cod", kind="cod", name="貨到付款")
CARD = PaymentMethod(code="card", kind="card_gateway", name="信用卡")
LINE_PAY = PaymentMethod(code="linepay", kind="custom", name="LINE Pay", instructions="掃描 QR")
FACE_TO_FACE = PaymentMethod(
    code="f2f", kind="custom", name="面交", instructions="面交付現", delivery_codes=("meet",)
)
ALL = [BANK, PICKUP_PAY, COD, CARD, LINE_PAY, FACE_TO_FACE]


def delivery(code: str, kind: str, cod_allowed: bool) -> DeliveryMethod:
    return DeliveryMethod(code=code, kind=kind, name=code, fee=60, cod_allowed=cod_allowed)


SEVEN_PAY = delivery("711", "cvs_711_c2c", True)
SEVEN_PREPAID = delivery("711-prepaid", "cvs_711_c2c", False)
HCT_COD = delivery("hct", "hct_home", True)
TCAT = delivery("tcat", "tcat_home", False)
MEET = delivery("meet", "custom", False)


@pytest.mark.parametrize(
    ("ship", "expected"),
    [
        (SEVEN_PAY, ["bank", "pickup", "card", "linepay"]),
        (SEVEN_PREPAID, ["bank", "card", "linepay"]),
        (HCT_COD, ["bank", "cod", "card", "linepay"]),
        (TCAT, ["bank", "card", "linepay"]),
        (MEET, ["bank", "card", "linepay", "f2f"]),
    ],
    ids=lambda v: v.code if isinstance(v, DeliveryMethod) else None,
)
def test_available_methods_per_delivery(ship, expected):
    assert [m.code for m in available_payment_methods(ship, ALL)] == expected
    assert all(compatible(m, ship) for m in available_payment_methods(ship, ALL))


def test_disabled_methods_are_not_offered():
    off = BANK.model_copy(update={"enabled": False})
    assert off not in available_payment_methods(TCAT, [off, CARD])


@pytest.mark.parametrize(("amount", "offered"), [(20000, True), (20001, False), (0, False)])
def test_collection_is_hidden_outside_the_carrier_cap(amount, offered):
    got = available_payment_methods(SEVEN_PAY, ALL, amount=amount)
    assert (PICKUP_PAY in got) is offered
    assert BANK in got


def test_card_gateway_is_listed_but_not_selectable_until_connected():
    assert not CARD.selectable
    assert CARD.model_copy(update={"connected": True}).selectable
    assert BANK.selectable


@pytest.mark.parametrize(
    ("m", "needs_proof", "skips"),
    [
        (BANK, True, False),
        (PICKUP_PAY, False, True),
        (COD, False, True),
        (CARD, False, False),
        (LINE_PAY, False, False),
    ],
)
def test_flags_per_kind(m, needs_proof, skips):
    assert (m.needs_proof, m.skips_payment) == (needs_proof, skips)


def test_bank_transfer_normalises_yaml_friendly_values():
    m = PaymentMethod(
        code="b",
        kind="bank_transfer",
        name="轉帳",
        **{**BANK_FIELDS, "bank_code": 4, "account_number": "2001-1234-5678"},
    )
    assert (m.bank_code, m.account_number, m.deadline_hours) == ("004", "200112345678", 72)


@pytest.mark.parametrize(
    "change",
    [
        {"bank_code": "12"},
        {"bank_code": "0812"},
        {"account_number": "123456789"},
        {"account_number": "123456789012345"},
        {"account_number": 1234567890},
        {"account_name": None},
        {"colour": "red"},
        {"deadline_hours": 0},
    ],
)
def test_bad_bank_transfer_config_is_refused(change):
    with pytest.raises(pydantic.ValidationError):
        PaymentMethod(code="b", kind="bank_transfer", name="轉帳", **{**BANK_FIELDS, **change})


def test_bank_details_only_belong_to_bank_transfer():
    with pytest.raises(pydantic.ValidationError, match="only belong"):
        PaymentMethod(code="c", kind="cod", name="貨到付款", bank_code="812")


def test_custom_method_needs_instructions():
    with pytest.raises(pydantic.ValidationError, match="instructions"):
        PaymentMethod(code="c", kind="custom", name="其他")


def test_bank_transfer_deadline_counts_hours_from_placement():
    placed = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    assert BANK.deadline(placed) == placed + timedelta(hours=72)
    with pytest.raises(ValueError):
        BANK.deadline(datetime(2026, 1, 1, 12))


def test_kind_values_are_the_config_spelling():
    assert PaymentKind("card_gateway") is PaymentKind.CARD_GATEWAY

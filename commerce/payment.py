"""Payment methods and which of them fit a delivery method (commerce-tw.md §4).

Config-facing, so unknown keys are refused and each kind checks the fields it needs:
a bank transfer without an account number would leave a customer with nowhere to pay.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commerce.delivery import DeliveryMethod, cod_available, is_home_delivery, is_store_pickup


class PaymentKind(str, enum.Enum):
    BANK_TRANSFER = "bank_transfer"
    PAY_AT_PICKUP = "pay_at_pickup"
    COD = "cod"
    CARD_GATEWAY = "card_gateway"
    CUSTOM = "custom"


_BANK_FIELDS = ("bank_name", "bank_code", "account_number", "account_name")


class PaymentMethod(BaseModel):
    """One way for the customer to pay, as configured by the merchant.

    A card gateway may be listed before it is configured; ``connected`` stays false
    until then and the order page shows it as not connected instead of hiding it, so
    the merchant sees what is missing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    kind: PaymentKind
    name: str = Field(min_length=1)
    name_en: str = ""
    enabled: bool = True
    bank_name: str | None = None
    bank_code: str | None = Field(default=None, pattern=r"^[0-9]{3}$")
    account_number: str | None = Field(default=None, pattern=r"^[0-9]{10,14}$")
    account_name: str | None = None
    deadline_hours: int = Field(default=72, gt=0)
    connected: bool = False
    instructions: str | None = None
    delivery_codes: tuple[str, ...] | None = None

    @field_validator("bank_code", mode="before")
    @classmethod
    def _pad_bank_code(cls, value: Any) -> Any:
        # YAML reads an unquoted 004 as the integer 4.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000:
            return f"{value:03d}"
        return value

    @field_validator("account_number", mode="before")
    @classmethod
    def _clean_account_number(cls, value: Any) -> Any:
        if isinstance(value, int):
            raise ValueError("write the account number in quotes, leading zeros matter")
        if isinstance(value, str):
            return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value))
        return value

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> PaymentMethod:
        if self.kind is PaymentKind.BANK_TRANSFER:
            missing = [name for name in _BANK_FIELDS if not getattr(self, name)]
            if missing:
                raise ValueError(f"bank transfer {self.code!r} needs {', '.join(missing)}")
        elif any(getattr(self, name) for name in _BANK_FIELDS):
            raise ValueError(f"bank details only belong on a bank_transfer method ({self.code!r})")
        if self.kind is PaymentKind.CUSTOM and not self.instructions:
            raise ValueError(f"custom payment {self.code!r} needs instructions for the customer")
        return self

    @property
    def needs_proof(self) -> bool:
        """The customer uploads a transfer proof that the merchant checks by hand."""
        return self.kind is PaymentKind.BANK_TRANSFER

    @property
    def skips_payment(self) -> bool:
        """The carrier collects the money, so the order goes straight to shipping."""
        return self.kind in (PaymentKind.PAY_AT_PICKUP, PaymentKind.COD)

    @property
    def selectable(self) -> bool:
        """False only for a card gateway that is listed but not connected yet."""
        return self.kind is not PaymentKind.CARD_GATEWAY or self.connected

    def deadline(self, placed_at: datetime) -> datetime:
        """When an unpaid bank-transfer order expires."""
        if placed_at.tzinfo is None:
            raise ValueError("placed_at must be timezone-aware")
        return placed_at + timedelta(hours=self.deadline_hours)


def compatible(payment: PaymentMethod, delivery: DeliveryMethod) -> bool:
    """Whether ``payment`` can be offered together with ``delivery``."""
    if payment.delivery_codes is not None and delivery.code not in payment.delivery_codes:
        return False
    if payment.kind is PaymentKind.PAY_AT_PICKUP:
        return is_store_pickup(delivery) and delivery.cod_allowed
    if payment.kind is PaymentKind.COD:
        return is_home_delivery(delivery) and delivery.cod_allowed
    return True


def available_payment_methods(
    delivery: DeliveryMethod, methods: Iterable[PaymentMethod], amount: int | None = None
) -> list[PaymentMethod]:
    """Enabled methods that fit ``delivery``, in config order.

    With ``amount``, collection by the carrier is hidden when the amount is outside what
    the carrier may collect (e.g. above NT$20,000 at a convenience store).
    """

    def collectable(method: PaymentMethod) -> bool:
        return not method.skips_payment or amount is None or cod_available(delivery, amount)

    return [m for m in methods if m.enabled and compatible(m, delivery) and collectable(m)]

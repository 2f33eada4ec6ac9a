"""Store settings the domain needs, as validated config models."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from commerce.delivery import DeliveryMethod
from commerce.payment import PaymentMethod
from commerce.services.order_service import OrderPolicy


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreInfo(Strict):
    name: str = Field(min_length=1, max_length=60)
    name_en: str = ""
    currency: str = Field(default="TWD", pattern=r"^[A-Z]{3}$")
    timezone: str = "Asia/Taipei"
    default_locale: str = Field(default="zh_TW", pattern=r"^(zh_TW|en)$")
    invoicing: bool = True
    privacy_url: HttpUrl | None = None
    terms_url: HttpUrl | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class OrderSettings(Strict):
    unconfirmed_ttl_hours: int = Field(default=72, ge=1, le=24 * 60)
    payment_deadline_hours: int = Field(default=72, ge=1, le=24 * 60)

    def policy(self, timezone: str) -> OrderPolicy:
        return OrderPolicy(
            timezone=timezone,
            unconfirmed_ttl=timedelta(hours=self.unconfirmed_ttl_hours),
            payment_deadline=timedelta(hours=self.payment_deadline_hours),
        )


class CheckoutSettings(Strict):
    """Delivery and payment methods, checked as a set: codes unique, none orphaned."""

    delivery_methods: tuple[DeliveryMethod, ...] = Field(min_length=1)
    payment_methods: tuple[PaymentMethod, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> CheckoutSettings:
        for label, methods in (("delivery_methods", self.delivery_methods),
                               ("payment_methods", self.payment_methods)):
            codes = [m.code for m in methods]
            duplicates = sorted({c for c in codes if codes.count(c) > 1})
            if duplicates:
                raise ValueError(f"{label}: duplicate code(s) {', '.join(duplicates)}")
        known = {m.code for m in self.delivery_methods}
        for method in self.payment_methods:
            unknown = set(method.delivery_codes or ()) - known
            if unknown:
                raise ValueError(
                    f"payment method {method.code!r} names unknown delivery code(s) "
                    f"{', '.join(sorted(unknown))}"
                )
        return self

    def delivery_by_code(self) -> dict[str, DeliveryMethod]:
        return {m.code: m for m in self.delivery_methods if m.enabled}

    def payment_by_code(self) -> dict[str, PaymentMethod]:
        return {m.code: m for m in self.payment_methods if m.enabled}

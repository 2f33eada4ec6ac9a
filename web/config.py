"""The whole configuration: ``config.yaml`` (store settings) plus the environment
(secrets and endpoints). Validated once at start; any problem stops the start with
one line per problem naming the key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from bot.settings import ChannelSettings
from commerce.delivery import DeliveryMethod
from commerce.payment import PaymentMethod
from commerce.pricing import (
    CouponDefinition,
    PricingRules,
    Promotion,
    StoreCreditPolicy,
    TaxPolicy,
)
from commerce.settings import CheckoutSettings, OrderSettings, StoreInfo
from flows.settings import FlowSettings, TextOverrides
from web.widget.settings import WidgetSettings

DEFAULT_CONFIG = "config.yaml"


class ConfigError(Exception):
    """Config or environment is unusable; ``str()`` is one line per problem."""


class AdminIdentity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    channel: str = Field(pattern=r"^(line|messenger)$")
    account: str
    user_id: str
    name: str = ""


class Texts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    zh_TW: TextOverrides = TextOverrides()
    en: TextOverrides = TextOverrides()


class AppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    store: StoreInfo
    orders: OrderSettings = OrderSettings()
    delivery_methods: tuple[DeliveryMethod, ...] = Field(min_length=1)
    payment_methods: tuple[PaymentMethod, ...] = Field(min_length=1)
    channels: ChannelSettings = ChannelSettings()
    flows: FlowSettings = FlowSettings()
    texts: Texts = Texts()
    admins: tuple[AdminIdentity, ...] = ()
    media_dir: str = "var/media"
    widget: WidgetSettings = WidgetSettings()
    promotions: tuple[Promotion, ...] = ()
    coupons: tuple[CouponDefinition, ...] = ()
    store_credit: StoreCreditPolicy = StoreCreditPolicy()
    tax: TaxPolicy = TaxPolicy()
    stack_order_promotions: bool = False

    @model_validator(mode="after")
    def _pricing_fits(self) -> AppConfig:
        # A duplicate coupon code, or free shipping for a method that does not exist,
        # would quietly never apply: refuse them at start instead.
        self.pricing_rules()
        known = {m.code for m in self.delivery_methods}
        for promotion in self.promotions:
            unknown = set(getattr(promotion, "delivery_codes", None) or ()) - known
            if unknown:
                raise ValueError(
                    f"promotions: {promotion.id!r} names unknown delivery code(s) "
                    f"{', '.join(sorted(unknown))}"
                )
        return self

    def checkout(self) -> CheckoutSettings:
        return CheckoutSettings(
            delivery_methods=self.delivery_methods, payment_methods=self.payment_methods
        )

    def pricing_rules(self) -> PricingRules:
        """What the pricing engine reads from config: promotions, coupons, credit, tax."""
        return PricingRules(
            promotions=self.promotions, coupons=self.coupons, store_credit=self.store_credit,
            tax=self.tax, stack_order_promotions=self.stack_order_promotions,
        )


def _format(error: PydanticError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{source}: {key}: {message}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "config") -> AppConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: (top level): expected a mapping of settings")
    try:
        config = AppConfig.model_validate(data)
        config.checkout()
    except PydanticError as exc:
        raise ConfigError(_format(exc, source)) from None
    return config


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Read and validate the config file (``CHATCART_CONFIG`` or ./config.yaml)."""
    file = Path(path or os.environ.get("CHATCART_CONFIG") or DEFAULT_CONFIG)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: file not found (set CHATCART_CONFIG)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})")\
            from None
    return parse_config(data, str(file))

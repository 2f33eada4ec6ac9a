"""Delivery methods, pickup stores, destinations and parcels (commerce-tw.md §3).

Methods come from the store config, so the models refuse unknown keys: a typo in
``config.yaml`` should fail ``chatcart config check`` rather than silently fall back
to a default. Limits that differ by carrier contract (COD cap, parcel size) default
per kind to the values in the reference and may be overridden per method.

Cross-border Latin rule: the issue asks for an English (romanised) name and address
"unless the destination is Hong Kong, Macau, Singapore or Malaysia", while the
reference notes that some retailers demand Latin script even there. We follow the
issue for the default and make it a per-destination switch: ``latin_only`` defaults
to true outside Taiwan except for HK, MO, SG and MY; set it to true in config when
the carrier insists.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from commerce.errors import NotFound, ValidationError


class DeliveryKind(str, enum.Enum):
    CVS_711_C2C = "cvs_711_c2c"
    CVS_711_B2C = "cvs_711_b2c"
    CVS_FAMILY_C2C = "cvs_family_c2c"
    CVS_FAMILY_B2C = "cvs_family_b2c"
    HCT_HOME = "hct_home"
    TCAT_HOME = "tcat_home"
    XB_711_PICKUP = "xb_711_pickup"
    XB_711_HOME = "xb_711_home"
    CUSTOM = "custom"


class Chain(str, enum.Enum):
    SEVEN_ELEVEN = "711"
    FAMILYMART = "family"


_CHAIN_OF_KIND = {
    DeliveryKind.CVS_711_C2C: Chain.SEVEN_ELEVEN,
    DeliveryKind.CVS_711_B2C: Chain.SEVEN_ELEVEN,
    DeliveryKind.CVS_FAMILY_C2C: Chain.FAMILYMART,
    DeliveryKind.CVS_FAMILY_B2C: Chain.FAMILYMART,
    DeliveryKind.XB_711_PICKUP: Chain.SEVEN_ELEVEN,
}
_HOME_KINDS = {DeliveryKind.HCT_HOME, DeliveryKind.TCAT_HOME, DeliveryKind.XB_711_HOME}
_CROSS_BORDER_KINDS = {DeliveryKind.XB_711_PICKUP, DeliveryKind.XB_711_HOME}
_DOMESTIC_CVS_KINDS = set(_CHAIN_OF_KIND) - _CROSS_BORDER_KINDS

# Destinations where the issue lets the recipient write in Chinese script.
_NATIVE_SCRIPT_DESTINATIONS = {"TW", "HK", "MO", "SG", "MY"}

_CODE_RE = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class ParcelLimits(BaseModel):
    """What one parcel may measure; ``None`` means the carrier sets no such limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_sum_cm: int | None = Field(default=None, gt=0)
    max_longest_cm: int | None = Field(default=None, gt=0)
    max_weight_g: int | None = Field(default=None, gt=0)


_CVS_PARCEL = {"max_sum_cm": 105, "max_longest_cm": 45, "max_weight_g": 5000}
_DEFAULT_PARCEL: dict[DeliveryKind, dict[str, int]] = {
    DeliveryKind.CVS_711_C2C: _CVS_PARCEL,
    DeliveryKind.CVS_711_B2C: _CVS_PARCEL,
    DeliveryKind.CVS_FAMILY_C2C: _CVS_PARCEL,
    DeliveryKind.CVS_FAMILY_B2C: {"max_sum_cm": 120, "max_longest_cm": 50, "max_weight_g": 10000},
    DeliveryKind.XB_711_PICKUP: _CVS_PARCEL,
    DeliveryKind.HCT_HOME: {"max_weight_g": 20000},
    DeliveryKind.TCAT_HOME: {"max_sum_cm": 150, "max_weight_g": 20000},
}
_DEFAULT_COD_MAX = {kind: 20000 for kind in _DOMESTIC_CVS_KINDS} | {DeliveryKind.HCT_HOME: 100000}


class Destination(BaseModel):
    """A country or region a cross-border method ships to (ISO 3166 alpha-2 code)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z]{2}$")
    name: str = ""
    name_en: str = ""
    latin_only: bool = True

    @model_validator(mode="before")
    @classmethod
    def _default_latin_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and "latin_only" not in data:
            code = str(data.get("code", "")).upper()
            data = {**data, "latin_only": code not in _NATIVE_SCRIPT_DESTINATIONS}
        return data


class DeliveryMethod(BaseModel):
    """One way of getting goods to the buyer, as configured by the merchant.

    ``cod_allowed`` means the carrier collects the money: the store clerk for
    pickup-and-pay (取貨付款) or the driver for home cash on delivery.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_CODE_RE)
    kind: DeliveryKind
    name: str = Field(min_length=1)
    name_en: str = ""
    fee: int = Field(ge=0)
    free_over: int | None = Field(default=None, ge=0)
    cod_allowed: bool = False
    cod_max: int | None = Field(default=None, gt=0)
    parcel: ParcelLimits = ParcelLimits()
    destinations: tuple[Destination, ...] = ()
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            kind = DeliveryKind(data.get("kind"))
        except ValueError:
            return data
        data = dict(data)
        data.setdefault("cod_max", _DEFAULT_COD_MAX.get(kind))
        parcel = data.get("parcel")
        if parcel is None or isinstance(parcel, dict):
            data["parcel"] = {**_DEFAULT_PARCEL.get(kind, {}), **(parcel or {})}
        if kind is DeliveryKind.XB_711_PICKUP:
            data.setdefault("destinations", [{"code": c} for c in ("HK", "MO", "SG", "MY")])
        return data

    @model_validator(mode="after")
    def _cross_border_needs_destinations(self) -> DeliveryMethod:
        if self.kind in _CROSS_BORDER_KINDS and not self.destinations:
            raise ValueError(f"cross-border method {self.code!r} must list its destinations")
        return self

    @property
    def chain(self) -> Chain | None:
        return _CHAIN_OF_KIND.get(self.kind)

    @property
    def is_cross_border(self) -> bool:
        return self.kind in _CROSS_BORDER_KINDS

    def destination(self, code: str) -> Destination | None:
        return next((d for d in self.destinations if d.code == code.upper()), None)

    def fee_for(self, merchandise_amount: int) -> int:
        """Shipping fee for an order whose discounted merchandise is ``merchandise_amount``."""
        if self.free_over is not None and merchandise_amount >= self.free_over:
            return 0
        return self.fee


def is_store_pickup(method: DeliveryMethod) -> bool:
    return method.kind in _CHAIN_OF_KIND


def is_home_delivery(method: DeliveryMethod) -> bool:
    return method.kind in _HOME_KINDS


class PickupStore(BaseModel):
    """Snapshot of the pickup store the buyer chose, stored on the order.

    A snapshot rather than a reference because stores close or move; the logistics
    order re-checks the store when it is created.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain: Chain
    country: str = Field(default="TW", pattern=r"^[A-Z]{2}$")
    store_id: str
    name: str = Field(min_length=1, max_length=60)
    address: str = Field(min_length=1, max_length=120)
    outlying: bool = False

    @field_validator("store_id")
    @classmethod
    def _store_id_format(cls, store_id: str, info: ValidationInfo) -> str:
        chain, country = info.data.get("chain"), info.data.get("country")
        if country != "TW":
            pattern, rule = r"^[0-9A-Za-z]{1,10}$", "1–10 個英數字"
        elif chain is Chain.SEVEN_ELEVEN:
            pattern, rule = r"^[0-9]{6}$", "6 位數字"
        else:
            pattern, rule = r"^F?[0-9]{6}$", "6 位數字（可加 F 前綴）"
        if not re.fullmatch(pattern, store_id):
            raise ValueError(f"門市代號 {store_id} 需為 {rule}")
        return store_id


def pickup_store(**fields: Any) -> PickupStore:
    """Build a store snapshot from untrusted input (the e-map postback, the sandbox).

    Turns pydantic's report into a domain ``ValidationError`` the web layer can show.
    """
    try:
        return PickupStore(**fields)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "store"
        message = first["msg"].removeprefix("Value error, ")
        raise ValidationError(f"門市資料有誤：{message}", field=field) from exc


_SANDBOX_ROWS = (
    (Chain.SEVEN_ELEVEN, "131386", "沙盒 信義門市", "台北市信義區測試路1號", False),
    (Chain.SEVEN_ELEVEN, "241005", "沙盒 板橋門市", "新北市板橋區範例街25號", False),
    (Chain.SEVEN_ELEVEN, "880301", "沙盒 馬公門市", "澎湖縣馬公市示範路3號", True),
    (Chain.FAMILYMART, "006598", "沙盒 全家大安店", "台北市大安區測試街8號", False),
    (Chain.FAMILYMART, "017722", "沙盒 全家台中店", "台中市西區範例路77號", False),
)
SANDBOX_STORES: dict[Chain, tuple[PickupStore, ...]] = {
    chain: tuple(
        PickupStore(chain=c, store_id=i, name=n, address=a, outlying=o)
        for c, i, n, a, o in _SANDBOX_ROWS
        if c is chain
    )
    for chain in Chain
}


def find_store(chain: Chain | str, store_id: str) -> PickupStore:
    """Look up an emulated store for the sandbox store picker."""
    chain = Chain(chain)
    for store in SANDBOX_STORES[chain]:
        if store.store_id == store_id:
            return store
    raise NotFound(f"找不到沙盒門市 {chain.value} {store_id}", field="store_id")


def check_destination(method: DeliveryMethod, code: str | None) -> Destination | None:
    """The destination of a cross-border method (``None`` at home), or why not."""
    if not method.is_cross_border:
        if code not in (None, "", "TW", "tw"):
            raise ValidationError(f"{method.name} 只寄送台灣", field="destination")
        return None
    found = method.destination(code or "")
    if found is None:
        allowed = ", ".join(d.code for d in method.destinations)
        raise ValidationError(
            f"{method.name} 寄送地區為 {allowed}，請選擇其中之一", field="destination"
        )
    return found


# --- parcel and cash on delivery ------------------------------------------------------


def check_parcel(
    method: DeliveryMethod, length_cm: int, width_cm: int, height_cm: int, weight_g: int
) -> None:
    """Refuse a parcel the carrier would not accept, so the cart can block the method."""
    limits = method.parcel
    sides = (length_cm, width_cm, height_cm)
    if limits.max_sum_cm is not None and sum(sides) > limits.max_sum_cm:
        raise ValidationError(
            f"{method.name}：長＋寬＋高最多 {limits.max_sum_cm} 公分", field="parcel"
        )
    if limits.max_longest_cm is not None and max(sides) > limits.max_longest_cm:
        raise ValidationError(
            f"{method.name}：最長邊最多 {limits.max_longest_cm} 公分", field="parcel"
        )
    if limits.max_weight_g is not None and weight_g > limits.max_weight_g:
        raise ValidationError(
            f"{method.name}：包裹最重 {limits.max_weight_g / 1000:g} 公斤",
            field="parcel",
        )


def cod_available(method: DeliveryMethod, amount: int) -> bool:
    """Whether the carrier may collect ``amount``; used to hide the option above the cap."""
    return (
        method.cod_allowed and amount >= 1 and (method.cod_max is None or amount <= method.cod_max)
    )


def check_cod(method: DeliveryMethod, amount: int) -> None:
    """Refuse cash collection the method cannot do, with the reason."""
    if not method.cod_allowed:
        raise ValidationError(f"{method.name} 不提供代收貨款", field="payment")
    if amount < 1:
        raise ValidationError("沒有需要代收的金額", field="payment")
    if method.cod_max is not None and amount > method.cod_max:
        raise ValidationError(
            f"{method.name} 代收金額最多 NT${method.cod_max:,}，請改用其他付款方式",
            field="payment",
        )

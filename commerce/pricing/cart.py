"""What the engine is asked to price: cart lines and the buyer's choices.

Plain frozen dataclasses, built by the order service from its own records. Each checks
its own values on construction, so a bad quantity fails where it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from commerce import limits
from commerce.delivery import DeliveryMethod
from commerce.errors import LimitExceeded, ValidationError
from commerce.payment import PaymentMethod


@dataclass(frozen=True)
class CartLine:
    """One product line at its catalogue price (stage 1 is the catalogue's sale price).

    ``sku`` identifies the line and breaks allocation ties; a custom item needs a key
    of its own (e.g. ``custom-1``). A gift costs nothing whatever ``unit_price`` says.
    """

    sku: str
    name: str
    unit_price: int
    quantity: int = 1
    product_id: str | int | None = None
    variant: str = ""
    categories: tuple[str, ...] = ()
    is_gift: bool = False
    is_custom: bool = False
    no_order_discounts: bool = False

    def __post_init__(self) -> None:
        if not self.sku:
            raise ValidationError(f"{self.name}：缺少商品編號", field="sku")
        if self.quantity < 1:
            raise ValidationError(f"{self.name}：數量至少為 1", field="quantity")
        if self.unit_price < 0:
            raise ValidationError(f"{self.name}：價格不可為負", field="unit_price")

    @property
    def key(self) -> str:
        """Stable identity: a gift of a product is a different line from the product."""
        return f"{self.sku}#gift" if self.is_gift else self.sku


@dataclass(frozen=True)
class CustomDiscount:
    """A merchant's own discount: a fixed amount or a percentage of the running total."""

    name: str
    amount: int | None = None
    percent: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("自訂折扣需要名稱", field="custom_discounts")
        if (self.amount is None) == (self.percent is None):
            raise ValidationError(
                f"自訂折扣「{self.name}」需指定金額或百分比其中一種", field="custom_discounts"
            )
        if self.amount is not None and self.amount < 1:
            raise ValidationError(f"自訂折扣「{self.name}」金額需大於 0", field="custom_discounts")
        if self.percent is not None and not 1 <= self.percent <= 100:
            raise ValidationError(
                f"自訂折扣「{self.name}」百分比需為 1–100", field="custom_discounts"
            )


@dataclass(frozen=True)
class CouponRequest:
    """The code the buyer typed and its usage so far; the engine does not count uses."""

    code: str
    total_used: int = 0
    used_by_customer: int = 0


@dataclass(frozen=True)
class Parcel:
    length_cm: int
    width_cm: int
    height_cm: int
    weight_g: int


@dataclass(frozen=True)
class PricingRequest:
    """A draft order to price. ``credit_requested=None`` means "as much as allowed"."""

    lines: tuple[CartLine, ...]
    coupon: CouponRequest | None = None
    custom_discounts: tuple[CustomDiscount, ...] = ()
    by_merchant: bool = False
    credit_balance: int = 0
    credit_requested: int | None = None
    delivery: DeliveryMethod | None = None
    destination: str | None = None
    payment: PaymentMethod | None = None
    parcel: Parcel | None = None
    tags: tuple[str, ...] = ()
    note: str = ""


def validate_request(request: PricingRequest) -> None:
    """Stage 0: refuse what no later stage can price."""
    if len(request.tags) > limits.ORDER_TAGS_MAX:
        raise LimitExceeded(f"一張訂單最多 {limits.ORDER_TAGS_MAX} 個標籤", field="tags")
    if len(request.note) > limits.ORDER_NOTE_MAX:
        raise LimitExceeded(f"備註最多 {limits.ORDER_NOTE_MAX} 字", field="note")
    if request.custom_discounts and not request.by_merchant:
        raise ValidationError("只有店家可以加自訂折扣", field="custom_discounts")
    if len(request.custom_discounts) > limits.ORDER_CUSTOM_DISCOUNTS_MAX:
        raise LimitExceeded(
            f"一張訂單最多 {limits.ORDER_CUSTOM_DISCOUNTS_MAX} 個自訂折扣", field="custom_discounts"
        )
    if request.credit_balance < 0:
        raise ValidationError("購物金餘額不可為負", field="credit")
    if request.credit_requested is not None and request.credit_requested < 0:
        raise ValidationError("購物金使用金額不可為負", field="credit")


def merge_lines(lines: tuple[CartLine, ...]) -> list[CartLine]:
    """One line per key, in order of first appearance.

    Allocation ties are broken by SKU, so two lines of one SKU must become one first;
    otherwise the split of a discount would depend on how the cart was typed in.
    """
    merged: dict[str, CartLine] = {}
    for line in lines:
        seen = merged.get(line.key)
        if seen is None:
            merged[line.key] = line
        elif replace(seen, quantity=line.quantity) != line:
            raise ValidationError(f"商品 {line.sku} 出現兩次且內容不同", field="lines")
        else:
            merged[line.key] = replace(seen, quantity=seen.quantity + line.quantity)
    return list(merged.values())

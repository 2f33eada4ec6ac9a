"""What a merchant asks for when building an order, before it is priced."""

from __future__ import annotations

from dataclasses import dataclass, field

from commerce import limits
from commerce.errors import LimitExceeded, ValidationError


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CustomItemRequest:
    """A one-off item the merchant types in (a made-to-order cake, a repair...)."""

    name: str
    unit_price: int
    quantity: int = 1
    image_url: str | None = None
    show_in_shop: bool = False


@dataclass(frozen=True)
class OrderRequest:
    customer_id: int
    delivery_method: str
    payment_method: str
    lines: tuple[LineRequest, ...] = ()
    gifts: tuple[LineRequest, ...] = ()
    custom_items: tuple[CustomItemRequest, ...] = ()
    delivery: dict = field(default_factory=dict)
    invoice: dict | None = None
    tags: tuple[str, ...] = ()
    note: str = ""
    conversation_id: int | None = None
    coupon_code: str | None = None
    store_credit: int | None = None
    custom_discounts: tuple[dict, ...] = ()

    def validate(self) -> None:
        """Shape checks that need no database; the aggregate checks the rest."""
        count = len(self.lines) + len(self.gifts) + len(self.custom_items)
        if count == 0:
            raise ValidationError("訂單至少需要一項商品", field="lines")
        if count > limits.ORDER_LINES_MAX:
            raise LimitExceeded(f"一張訂單最多 {limits.ORDER_LINES_MAX} 項", field="lines")
        for line in (*self.lines, *self.gifts):
            _check_quantity(line.quantity, line.sku)
        for item in self.custom_items:
            _check_quantity(item.quantity, item.name)
            if not item.name.strip() or len(item.name) > limits.CUSTOM_ITEM_NAME_MAX:
                raise ValidationError(
                    f"自訂商品名稱需為 1–{limits.CUSTOM_ITEM_NAME_MAX} 字", field="custom_items"
                )
            if item.unit_price < 0:
                raise ValidationError(f"{item.name}: 價格不可為負", field="custom_items")
        if len(self.custom_discounts) > limits.ORDER_CUSTOM_DISCOUNTS_MAX:
            raise LimitExceeded(
                f"自訂折扣最多 {limits.ORDER_CUSTOM_DISCOUNTS_MAX} 個", field="custom_discounts"
            )


def _check_quantity(quantity: int, what: str) -> None:
    if not 1 <= quantity <= limits.LINE_QUANTITY_MAX:
        raise ValidationError(
            f"{what}: 數量需為 1–{limits.LINE_QUANTITY_MAX}", field="quantity"
        )

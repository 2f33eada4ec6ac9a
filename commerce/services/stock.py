"""Stock reservations: a conditional UPDATE per variant, so the database itself
refuses to sell a unit twice or go below zero, whatever runs concurrently."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from commerce.catalog import Variant
from commerce.errors import OutOfStock


def reserve(session: Session, variant: Variant, quantity: int) -> None:
    result = session.execute(
        update(Variant)
        .where(Variant.id == variant.id, Variant.stock >= quantity)
        .values(stock=Variant.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(variant, ["stock"])
        label = f"{variant.product.name} {variant.label}".strip()
        raise OutOfStock(
            f"{label}（{variant.sku}）庫存不足：剩 {variant.stock}，需要 {quantity}", field="stock"
        )


def release(session: Session, variant_id: int, quantity: int) -> None:
    session.execute(
        update(Variant)
        .where(Variant.id == variant_id)
        .values(stock=Variant.stock + quantity)
        .execution_options(synchronize_session=False)
    )

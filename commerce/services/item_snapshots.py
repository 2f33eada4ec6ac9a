"""A catalogue line as it is sold: checked and copied at the current price.

Shared by orders (which then reserve the stock) and quotes (which do not), so the
two can never disagree on what a SKU is or costs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.catalog import Variant
from commerce.errors import NotFound, ValidationError
from commerce.services.pricing_port import ItemSnapshot


def catalogue_item(session: Session, kind: str, sku: str, quantity: int, *,
                   field: str = "sku") -> tuple[Variant, ItemSnapshot]:
    """The variant and its snapshot; ``kind`` is product or gift, and must match."""
    variant = session.scalar(select(Variant).where(Variant.sku == sku))
    if variant is None or not variant.active:
        raise NotFound(f"找不到商品編號 {sku}", field=field)
    if (kind == "gift") != variant.product.is_gift:
        raise ValidationError(f"{sku} {'不是' if kind == 'gift' else '是'}贈品", field=field)
    product = variant.product
    return variant, ItemSnapshot(
        kind=kind, sku=variant.sku, name=product.name, variant_label=variant.label,
        unit_price=variant.price, quantity=quantity, category=product.category,
        image_url=product.image_url, variant_id=variant.id,
    )

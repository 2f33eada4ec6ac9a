"""Reading and maintaining the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from commerce.catalog import Product, Variant
from commerce.errors import NotFound, ValidationError
from commerce.services.uow import UnitOfWork


@dataclass(frozen=True)
class CatalogRow:
    sku: str
    product: str
    variant: str
    price: int
    stock: int
    hidden: bool
    is_gift: bool

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    price: int
    stock: int
    options: dict[str, str]


class CatalogService:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def list_rows(self, *, include_hidden: bool = True) -> list[CatalogRow]:
        with self._uow.read() as session:
            query = select(Product).options(selectinload(Product.variants)).order_by(Product.id)
            if not include_hidden:
                query = query.where(Product.hidden.is_(False))
            return [
                CatalogRow(v.sku, p.name, v.label, v.price, v.stock, p.hidden, p.is_gift)
                for p in session.scalars(query)
                for v in p.variants
                if v.active
            ]

    def variant_by_sku(self, sku: str) -> CatalogRow:
        with self._uow.read() as session:
            variant = session.scalar(select(Variant).where(Variant.sku == sku))
            if variant is None:
                raise NotFound(f"找不到商品編號 {sku}", field="sku")
            p, v = variant.product, variant
            return CatalogRow(v.sku, p.name, v.label, v.price, v.stock, p.hidden, p.is_gift)

    def upsert_product(
        self,
        *,
        slug: str,
        name: str,
        variants: list[VariantSpec],
        name_en: str | None = None,
        category: str | None = None,
        description: str = "",
        image_url: str | None = None,
        hidden: bool = False,
        is_gift: bool = False,
    ) -> int:
        """Create or update a product by slug; variants are matched by SKU.

        Existing stock is left alone on update so re-seeding never undoes sales.
        """
        if not variants:
            raise ValidationError(f"商品 {name} 至少需要一個規格", field="variants")
        if is_gift and any(v.price != 0 for v in variants):
            raise ValidationError(f"贈品 {name} 的價格必須為 0", field="price")
        with self._uow() as session:
            product = session.scalar(select(Product).where(Product.slug == slug))
            if product is None:
                product = Product(slug=slug)
                session.add(product)
            product.name, product.name_en, product.category = name, name_en, category
            product.description, product.image_url = description, image_url
            product.hidden, product.is_gift = hidden, is_gift
            existing = {v.sku: v for v in product.variants}
            for spec in variants:
                if spec.price < 0 or spec.stock < 0:
                    raise ValidationError(f"{spec.sku}: 價格與庫存不可為負", field="price")
                variant = existing.get(spec.sku)
                if variant is None:
                    product.variants.append(
                        Variant(sku=spec.sku, price=spec.price, stock=spec.stock,
                                options=spec.options)
                    )
                else:
                    variant.price, variant.options = spec.price, spec.options
            session.flush()
            return product.id

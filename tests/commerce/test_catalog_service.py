import pytest

from commerce.demo import PRODUCTS, seed_demo
from commerce.errors import NotFound, ValidationError
from commerce.services.catalog_service import VariantSpec


def test_demo_catalogue_has_variants_and_one_gift(shop):
    rows = shop.catalog.list_rows()
    assert len({r.product for r in rows}) == len(PRODUCTS) >= 10
    gifts = [r for r in rows if r.is_gift]
    assert [(g.sku, g.price) for g in gifts] == [("GIFT-POUCH", 0)]
    shirt = shop.catalog.variant_by_sku("SHIRT-WHT-L")
    assert (shirt.product, shirt.variant, shirt.price) == ("亞麻襯衫", "白 / L", 890)


def test_reseeding_changes_nothing(shop):
    before = shop.catalog.list_rows()
    result = seed_demo(shop.catalog, shop.customers)
    assert result["customers_created"] == 0
    assert shop.catalog.list_rows() == before


def test_hidden_products_are_left_out_of_the_shop_listing(shop):
    shop.catalog.upsert_product(slug="secret", name="隱藏款", hidden=True,
                                variants=[VariantSpec("SECRET-1", 100, 1, {})])
    assert "SECRET-1" in {r.sku for r in shop.catalog.list_rows()}
    assert "SECRET-1" not in {r.sku for r in shop.catalog.list_rows(include_hidden=False)}


def test_gift_must_cost_nothing_and_prices_not_negative(shop):
    with pytest.raises(ValidationError, match="0"):
        shop.catalog.upsert_product(slug="g", name="贈品", is_gift=True,
                                    variants=[VariantSpec("G-1", 10, 1, {})])
    with pytest.raises(ValidationError):
        shop.catalog.upsert_product(slug="n", name="負價", variants=[VariantSpec("N-1", -1, 1, {})])


def test_unknown_sku(shop):
    with pytest.raises(NotFound):
        shop.catalog.variant_by_sku("NOPE")

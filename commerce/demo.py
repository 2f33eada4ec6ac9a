"""The demo store's catalogue and customers, loaded by ``chatcart seed-demo``.

Seeding is idempotent: products are matched by slug and variants by SKU, and
customers by phone, so running it again changes nothing (stock included).
"""

from __future__ import annotations

from commerce.services.catalog_service import CatalogService, VariantSpec
from commerce.services.customer_service import AddressInput, CustomerService


def _sizes(prefix: str, price: int, colours: dict[str, str], sizes: list[str],
           stock: int) -> list[VariantSpec]:
    return [
        VariantSpec(f"{prefix}-{ckey}-{size}", price, stock, {"顏色": colour, "尺寸": size})
        for ckey, colour in colours.items()
        for size in sizes
    ]


PRODUCTS: list[dict] = [
    dict(slug="linen-shirt", name="亞麻襯衫", name_en="Linen shirt", category="服飾",
         variants=_sizes("SHIRT", 890, {"WHT": "白", "BLU": "藍"}, ["S", "M", "L"], 12)),
    dict(slug="cotton-tee", name="有機棉T恤", name_en="Organic cotton tee", category="服飾",
         variants=_sizes("TEE", 490, {"BLK": "黑", "GRY": "灰"}, ["M", "L"], 20)),
    dict(slug="canvas-tote", name="帆布托特包", name_en="Canvas tote", category="配件",
         variants=[VariantSpec("TOTE-NAT", 650, 15, {"顏色": "米白"}),
                   VariantSpec("TOTE-OLV", 650, 8, {"顏色": "橄欖綠"})]),
    dict(slug="oolong-tea", name="阿里山烏龍茶 150g", name_en="Alishan oolong 150 g",
         category="茶品", variants=[VariantSpec("TEA-OOLONG", 580, 30, {})]),
    dict(slug="black-tea", name="日月潭紅玉紅茶 75g", name_en="Sun Moon Lake black tea 75 g",
         category="茶品", variants=[VariantSpec("TEA-RUBY", 450, 25, {})]),
    dict(slug="pineapple-cake", name="土鳳梨酥禮盒", name_en="Pineapple cake box",
         category="點心",
         variants=[VariantSpec("CAKE-6", 360, 40, {"入數": "6入"}),
                   VariantSpec("CAKE-12", 680, 20, {"入數": "12入"})]),
    dict(slug="ceramic-mug", name="手作陶瓷杯", name_en="Handmade ceramic mug", category="生活",
         variants=[VariantSpec("MUG-BLUE", 520, 10, {"釉色": "靛藍"}),
                   VariantSpec("MUG-SAND", 520, 6, {"釉色": "沙色"})]),
    dict(slug="soy-candle", name="大豆香氛蠟燭", name_en="Soy candle", category="生活",
         variants=[VariantSpec("CANDLE-CYPRESS", 780, 9, {"香味": "檜木"}),
                   VariantSpec("CANDLE-OSMAN", 780, 9, {"香味": "桂花"})]),
    dict(slug="bamboo-chopsticks", name="竹製筷組", name_en="Bamboo chopsticks set",
         category="生活", variants=[VariantSpec("CHOP-5", 299, 50, {"入數": "5雙"})]),
    dict(slug="sesame-oil", name="黑麻油 300ml", name_en="Black sesame oil 300 ml",
         category="食品", variants=[VariantSpec("OIL-300", 420, 18, {})]),
    dict(slug="gift-pouch", name="贈品：刺繡小零錢包", name_en="Gift: embroidered pouch",
         category="贈品", is_gift=True,
         variants=[VariantSpec("GIFT-POUCH", 0, 30, {})]),
]

CUSTOMERS: list[dict] = [
    dict(name="王小明", phone="0912345678", email="ming@example.com",
         address=AddressInput("王小明", "0912345678", "台北市大安區復興南路一段100號")),
    dict(name="林美華", phone="0922333444", email="meihua@example.com",
         address=AddressInput("林美華", "0922333444", kind="cvs",
                              store={"chain": "711", "store_id": "131386",
                                     "name": "7-ELEVEN 建元門市"})),
    dict(name="陳志豪", phone="0933555777", email=None, address=None),
]


def seed_demo(catalog: CatalogService, customers: CustomerService) -> dict[str, int]:
    for product in PRODUCTS:
        catalog.upsert_product(**product)
    created = 0
    for data in CUSTOMERS:
        if customers.find_by_contact(data["phone"]) is not None:
            continue
        customer_id = customers.create(data["name"], phone=data["phone"], email=data["email"])
        if data["address"] is not None:
            customers.add_address(customer_id, data["address"])
        created += 1
    return {"products": len(PRODUCTS), "customers_created": created}

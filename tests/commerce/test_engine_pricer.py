"""Orders priced by the engine: line totals, coupons, custom discounts, store credit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.customers import CreditEntry
from commerce.errors import ValidationError
from commerce.services.order_requests import LineRequest
from commerce.services.order_service import OrderService
from tests.commerce.engine_support import new_customer, order_request, orders_with, rules

THRESHOLD = {"id": "spend-1000", "type": "spend_threshold", "name": "滿千折百",
             "min_spend": 1000, "amount_off": 100}
TEN = {"code": "TEN10", "name": "九折", "kind": "percent", "value": 10,
       "skus": ["TEE-BLK-M", "TEA-RUBY"]}
CREDIT_10 = {"enabled": True, "max_percent": 10, "merchant_may_choose": True}


def ledger(shop, customer_id: int) -> list[tuple[int, str]]:
    with shop.uow() as session:
        rows = session.scalars(
            select(CreditEntry).where(CreditEntry.customer_id == customer_id)
            .order_by(CreditEntry.id)
        ).all()
        return [(e.amount, e.reason) for e in rows]


def test_every_stage_reaches_the_order(shop):
    """Threshold, coupon, custom discount, shipping and credit, worked out by hand.

    1550 list; −100 over [980, 450, 120] → [63, 29, 8]; 10 % of 917 + 421 = 1338 → 134
    over [917, 421] → [92, 42]; −30 over [825, 379, 112] → [19, 9, 2]; lines
    806 / 370 / 110 = 1286; shipping 60 (< 1500); credit ⌊1286 × 10 %⌋ = 128.
    """
    customer = new_customer(shop, "0955100001", credit=500)
    orders = orders_with(shop, rules(THRESHOLD, coupons=(TEN,), store_credit=CREDIT_10))
    order = orders.create(order_request(
        customer, ("TEE-BLK-M", 2), ("TEA-RUBY", 1), customs=(("刻字", 120, 1),),
        coupon_code="ten10", custom_discounts=({"name": "老客戶", "amount": 30},),
    ), actor="merchant")
    assert [i.line_total for i in order.items] == [806, 370, 110]
    assert (order.subtotal, order.discount_total, order.shipping_fee) == (1550, 264, 60)
    assert (order.credit_used, order.total) == (128, 1218)
    assert order.total == sum(i.line_total for i in order.items) + 60 - 128
    assert order.pricing["coupon"]["applied"] and order.pricing["coupon"]["code"] == "TEN10"
    assert [line["key"] for line in order.pricing["lines"]] == ["TEE-BLK-M", "TEA-RUBY",
                                                                "custom-1"]
    assert shop.customers.balance(customer) == 372
    assert ledger(shop, customer) == [(500, "gift"), (-128, "order_redeem")]


def test_two_lines_of_one_product_share_its_final_amount(shop):
    customer = new_customer(shop, "0955100002")
    orders = orders_with(shop, rules(THRESHOLD))
    order = orders.create(order_request(
        customer, ("TEA-RUBY", 1), ("TEA-OOLONG", 1), ("TEA-RUBY", 2)), actor="m")
    assert [i.quantity for i in order.items] == [1, 1, 2]
    ruby = [line for line in order.pricing["lines"] if line["sku"] == "TEA-RUBY"][0]
    assert ruby["quantity"] == 3
    # −100 over [1350, 580] → [70, 30]; the ruby's 1280 shared over [450, 900].
    assert ruby["final_amount"] == 1280
    assert [i.line_total for i in order.items] == [427, 550, 853]


def test_gifts_are_free_and_outside_thresholds(shop):
    customer = new_customer(shop, "0955100003")
    orders = orders_with(shop, rules(THRESHOLD))
    order = orders.create(order_request(
        customer, ("TEA-RUBY", 2), gifts=(LineRequest("GIFT-POUCH", 1),)), actor="m")
    gift = next(i for i in order.items if i.kind == "gift")
    assert gift.line_total == 0
    assert (order.subtotal, order.discount_total, order.total) == (900, 0, 960)


@pytest.mark.parametrize("code, reason", [
    ("TEN10", "minimum_not_met"),
    ("NOPE99", "unknown"),
])
def test_a_refused_coupon_is_explained_and_not_kept(shop, code, reason):
    customer = new_customer(shop, "0955100004")
    coupon = {**TEN, "min_spend": 5000}
    order = orders_with(shop, rules(coupons=(coupon,))).create(
        order_request(customer, ("TEA-RUBY", 1), coupon_code=code), actor="m")
    assert order.pricing["coupon"]["applied"] is False
    assert order.pricing["coupon"]["reason_code"] == reason
    assert order.pricing["coupon"]["reason"]
    assert order.total == 450 + 60
    with shop.uow() as session:
        from commerce.orders import Order

        assert session.get(Order, order.id).coupon_code is None


@pytest.mark.parametrize("discount", [
    {"name": "折", "amount": 30, "colour": "red"},
    {"name": "折", "amount": "30"},
    {"name": "折", "amount": True},
    {"name": 5, "amount": 30},
    {"name": "折", "amount": 30, "percent": 5},
    {"name": " ", "amount": 30},
])
def test_malformed_custom_discounts_are_refused(shop, discount):
    customer = new_customer(shop, "0955100005")
    with pytest.raises(ValidationError) as caught:
        shop.orders.create(order_request(customer, ("TEA-RUBY", 1),
                                         custom_discounts=(discount,)), actor="m")
    assert caught.value.field == "custom_discounts"
    assert shop.catalog.variant_by_sku("TEA-RUBY").stock == 25


def test_percent_custom_discount_of_the_running_subtotal(shop):
    customer = new_customer(shop, "0955100006")
    order = orders_with(shop, rules()).create(order_request(
        customer, ("TEA-RUBY", 2), custom_discounts=({"name": "員工價", "percent": 15},)),
        actor="m")
    assert order.pricing["custom_discounts"][0]["amount"] == 135
    assert order.total == 900 - 135 + 60


@pytest.mark.parametrize("policy, balance, requested, used, refusal", [
    ({"enabled": False, "merchant_may_choose": True}, 300, 100, 0, "disabled"),
    ({"enabled": True, "min_order_amount": 1000, "merchant_may_choose": True}, 300, 100, 0,
     "below_minimum"),
    ({"enabled": True, "max_per_order": 50, "merchant_may_choose": True}, 300, 100, 50,
     "max_per_order"),
    ({"enabled": True, "max_percent": 10, "merchant_may_choose": True}, 300, 100, 90,
     "max_percent"),
    ({"enabled": True, "merchant_may_choose": True}, 60, 100, 60, "balance"),
    ({"enabled": True, "merchant_may_choose": True}, 300, 70, 70, None),
    ({"enabled": True, "max_per_order": 200}, 300, None, 200, None),
])
def test_store_credit_rules_name_the_rule_that_refused(
    shop, policy, balance, requested, used, refusal
):
    customer = new_customer(shop, "0955100007", credit=balance)
    orders = orders_with(shop, rules(store_credit=policy))
    order = orders.create(order_request(customer, ("TEA-RUBY", 2), store_credit=requested),
                          actor="merchant")
    credit = order.pricing["credit"]
    assert (order.credit_used, credit["refusal_code"]) == (used, refusal)
    assert (credit["refusal"] is None) == (refusal is None)
    assert order.total == 900 + 60 - used
    assert shop.customers.balance(customer) == balance - used


def test_a_merchant_may_not_choose_the_amount_unless_the_store_allows_it(shop):
    customer = new_customer(shop, "0955100008", credit=300)
    orders = orders_with(shop, rules(store_credit={"enabled": True}))
    with pytest.raises(ValidationError) as caught:
        orders.create(order_request(customer, ("TEA-RUBY", 1), store_credit=100), actor="m")
    assert caught.value.field == "credit"
    assert shop.customers.balance(customer) == 300
    assert orders.list(customer_id=customer) == []


def test_redeemed_credit_comes_back_on_cancel_and_on_expiry(shop):
    customer = new_customer(shop, "0955100009", credit=300)
    orders = orders_with(shop, rules(store_credit=CREDIT_10))
    cancelled = orders.create(order_request(customer, ("TEA-RUBY", 2)), actor="m")
    assert cancelled.credit_used == 90
    orders.cancel(cancelled.number, actor="m")
    orders.cancel(cancelled.number, actor="m")
    expiring = orders.create(order_request(customer, ("TEA-RUBY", 1)), actor="m")
    orders.send(expiring.number, actor="m")
    orders._clock = lambda: expiring.created_at.replace(year=expiring.created_at.year + 1)
    assert [o.number for o in orders.expire_due()] == [expiring.number]
    assert shop.customers.balance(customer) == 300
    assert ledger(shop, customer) == [
        (300, "gift"), (-90, "order_redeem"), (90, "order_refund"),
        (-45, "order_redeem"), (45, "order_refund")]


def test_payment_must_fit_the_delivery_method(shop):
    customer = new_customer(shop, "0955100010")
    request = order_request(customer, ("TEA-RUBY", 1), ship="home", pay="pickup_pay")
    with pytest.raises(ValidationError) as caught:
        shop.orders.create(request, actor="m")
    assert caught.value.field == "payment"


def test_collection_above_the_carriers_cap_is_refused(shop):
    customer = new_customer(shop, "0955100011")
    orders = orders_with(shop, rules())
    under = order_request(customer, ("CAKE-12", 20), pay="pickup_pay")
    assert orders.create(under, actor="m").total == 13600
    over = order_request(customer, ("SHIRT-WHT-M", 12), ("CAKE-6", 30), pay="pickup_pay")
    with pytest.raises(ValidationError, match="20,000") as caught:
        orders.create(over, actor="m")  # 10,680 + 10,800
    assert caught.value.field == "payment"
    assert shop.catalog.variant_by_sku("CAKE-6").stock == 40


def test_the_basic_pricer_still_prices_without_the_engine(shop):
    checkout = shop.config.checkout()
    basic = OrderService(shop.uow, delivery_methods=checkout.delivery_by_code(),
                         payment_methods=checkout.payment_by_code())
    customer = new_customer(shop, "0955100012")
    order = basic.create(order_request(customer, ("TEA-RUBY", 1), coupon_code="WELCOME100"),
                         actor="m")
    assert (order.total, order.pricing) == (510, {})
    basic.send(order.number, actor="m")
    assert basic.confirm(order.number, actor="c").changed
    assert basic.cancel(order.number, actor="m").changed


def test_the_shop_prices_with_the_rules_in_config(shop):
    customer = new_customer(shop, "0955100013")
    order = shop.orders.create(order_request(customer, ("TEA-OOLONG", 3)), actor="m")
    assert order.pricing["promotions"][0]["id"] == "tea-any-3"
    assert (order.subtotal, order.discount_total, order.total) == (1740, 341, 1399 + 60)

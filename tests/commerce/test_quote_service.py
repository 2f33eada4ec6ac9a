"""Quotes: priced like orders, but nothing is created, reserved or redeemed."""

from __future__ import annotations

import pytest

from commerce.errors import NotFound, ValidationError
from commerce.services.order_requests import CustomItemRequest, LineRequest
from commerce.services.quote_service import QuoteDraft, QuoteService
from tests.commerce.engine_support import new_customer, order_request


@pytest.fixture
def quotes(shop) -> QuoteService:
    checkout = shop.config.checkout()
    return QuoteService(shop.uow, shop.orders.pricer,
                        delivery_methods=checkout.delivery_by_code(),
                        payment_methods=checkout.payment_by_code())


def draft(*lines: tuple[str, int], **extra) -> QuoteDraft:
    extra.setdefault("delivery_method", "711")
    return QuoteDraft(lines=tuple(LineRequest(sku, qty) for sku, qty in lines), **extra)


def test_a_quote_is_the_order_it_would_become_and_changes_nothing(shop, quotes):
    customer = new_customer(shop, "0955300001", credit=200)
    request = order_request(
        customer, ("TEA-OOLONG", 3), ("CHOP-5", 1), customs=(("禮盒包裝", 50, 1),),
        coupon_code="welcome100", custom_discounts=({"name": "熟客", "amount": 20},))
    quoted = quotes.quote(QuoteDraft.of(request))
    assert shop.catalog.variant_by_sku("TEA-OOLONG").stock == 30
    assert shop.customers.balance(customer) == 200
    assert shop.orders.list(customer_id=customer) == []
    order = shop.orders.create(request, actor="merchant")
    assert order.pricing == quoted.to_dict()
    assert order.total == quoted.total
    assert [i.line_total for i in order.items] == [line.final_amount for line in quoted.lines]


def test_worked_numbers_with_the_demo_rules(quotes):
    quoted = quotes.quote(draft(("TEA-OOLONG", 3), ("CHOP-5", 1), coupon_code="WELCOME100"))
    assert [p.id for p in quoted.promotions] == ["tea-any-3"]
    assert (quoted.subtotal, quoted.promotion_total, quoted.coupon_total) == (2039, 341, 100)
    assert (quoted.shipping.charged, quoted.credit.used, quoted.total) == (0, 0, 1598)


def test_without_a_customer_there_is_no_credit_and_no_coupon_list(quotes):
    result = quotes.details(draft(("TEA-RUBY", 2), store_credit=50))
    assert result.breakdown.credit.used == 0
    assert result.breakdown.credit.refusal_code == "balance"
    assert result.coupons is None


def test_coupon_options_for_a_known_customer(shop, quotes):
    customer = new_customer(shop, "0955300002")
    result = quotes.details(draft(("TEA-RUBY", 1), customer_id=customer))
    found = {o.coupon.code: (o.usable, o.reason_code, o.saving) for o in result.coupons}
    assert found == {"WELCOME100": (False, "minimum_not_met", 0), "TEA10": (True, None, 45)}


@pytest.mark.parametrize("ship, total_items, expected", [
    ("711", [("TEA-RUBY", 1)], ["transfer", "pickup_pay"]),
    ("home", [("TEA-RUBY", 1)], ["transfer", "cod"]),
    ("711", [("CAKE-12", 20), ("CAKE-6", 30)], ["transfer"]),  # over NT$20,000 to collect
])
def test_payment_methods_that_fit_the_delivery_and_the_total(quotes, ship, total_items,
                                                             expected):
    result = quotes.details(draft(*total_items, delivery_method=ship))
    assert [m.code for m in result.payment_methods] == expected


@pytest.mark.parametrize("quote_draft, error, field", [
    (draft(("NOPE", 1)), NotFound, "lines.0.sku"),
    (draft(("TEA-RUBY", 1), ("GIFT-POUCH", 1)), ValidationError, "lines.1.sku"),
    (QuoteDraft(gifts=(LineRequest("TEA-RUBY", 1),), delivery_method="711"), ValidationError,
     "gifts.0.sku"),
    (draft(("TEA-RUBY", 1), delivery_method="ufo"), ValidationError, "delivery_method"),
    (draft(("TEA-RUBY", 1), payment_method="bitcoin"), ValidationError, "payment_method"),
    (draft(("TEA-RUBY", 1), payment_method="cod"), ValidationError, "payment"),
    (draft(("TEA-RUBY", 0)), ValidationError, "quantity"),
    (draft(), ValidationError, "lines"),
    (QuoteDraft(custom_items=(CustomItemRequest("", 10),), delivery_method="711"),
     ValidationError, "custom_items"),
    (draft(("TEA-RUBY", 1), customer_id=999_999), NotFound, "customer"),
])
def test_bad_drafts_name_the_field(quotes, quote_draft, error, field):
    with pytest.raises(error) as caught:
        quotes.quote(quote_draft)
    assert caught.value.field == field

"""POST /api/quote over Flask's test client: token, strict body, size cap, and the
same numbers as the order created from the same draft."""

from __future__ import annotations

import json

import pytest

from commerce.services.order_requests import CustomItemRequest, LineRequest, OrderRequest
from web.app import create_app

DEMO_PHONE = "0912345678"


@pytest.fixture
def client(shop):
    return create_app(shop).test_client()


@pytest.fixture
def token(shop) -> str:
    return shop.admins.create_token("tests")


def post(client, token: str | None, body, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/api/quote", data=data, headers=headers,
                       content_type="application/json")


BASIC = {"lines": [{"sku": "TEA-RUBY", "quantity": 2}], "delivery_method": "711"}


@pytest.mark.parametrize("authorization", [None, "Bearer cc_wrong", "Basic abc", "Bearer "])
def test_a_merchant_token_is_required(client, token, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = post(client, None, BASIC, **headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_quote_without_a_customer(client, token):
    response = post(client, token, BASIC)
    assert response.status_code == 200
    data = response.get_json()
    assert (data["subtotal"], data["shipping"]["charged"], data["total"]) == (900, 60, 960)
    assert data["lines"][0]["sku"] == "TEA-RUBY" and data["lines"][0]["final_amount"] == 900
    assert [m["code"] for m in data["available_payment_methods"]] == ["transfer", "pickup_pay"]
    assert "coupons" not in data


def test_a_customer_by_phone_gets_coupon_options(client, token):
    body = {**BASIC, "customer": {"phone": "0912-345-678"}, "coupon_code": "tea10"}
    data = post(client, token, body).get_json()
    assert data["coupon"]["applied"] and data["coupon"]["amount"] == 90
    options = {c["code"]: c for c in data["coupons"]}
    assert options["WELCOME100"]["usable"] and options["WELCOME100"]["saving"] == 100
    assert options["TEA10"]["saving"] == 90


@pytest.mark.parametrize("body, field", [
    ({**BASIC, "colour": "red"}, "colour"),
    ({**BASIC, "lines": [{"sku": "TEA-RUBY", "quantity": "2"}]}, "lines.0.quantity"),
    ({**BASIC, "lines": [{"sku": "TEA-RUBY", "quantity": 0}]}, "lines.0.quantity"),
    ({**BASIC, "lines": [{"sku": "TEA-RUBY", "qty": 1}]}, "lines.0.quantity"),
    ({"lines": BASIC["lines"]}, "delivery_method"),
    ({**BASIC, "customer": {"id": 1, "phone": DEMO_PHONE}}, "customer"),
    ({**BASIC, "customer": {"phone": "0900000000"}}, "customer"),
    ({**BASIC, "customer": {"id": 999_999}}, "customer"),
    ({**BASIC, "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines.0.sku"),
    ({**BASIC, "delivery_method": "ufo"}, "delivery_method"),
    ({**BASIC, "delivery_method": "home", "payment_method": "pickup_pay"}, "payment_method"),
    ({**BASIC, "store_credit": -5}, "store_credit"),
    ({**BASIC, "custom_discounts": [{"name": "x", "amount": 10, "percent": 5}]},
     "custom_discounts"),
    ({**BASIC, "custom_discounts": [{"name": f"d{i}", "amount": 1} for i in range(6)]},
     "custom_discounts"),
    ({**BASIC, "lines": []}, "lines"),
    ({**BASIC, "destination": "JP"}, "destination"),
])
def test_bad_input_is_a_400_naming_the_field(client, token, body, field):
    response = post(client, token, body)
    assert response.status_code == 400, response.get_json()
    data = response.get_json()
    assert data["field"] == field
    assert data["message"]


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[]"])
def test_a_body_that_is_not_a_json_object_is_refused(client, token, raw):
    response = post(client, token, raw)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid"


def test_bodies_over_256_kb_are_refused(client, token):
    padding = "x" * (256 * 1024)
    response = post(client, token, {**BASIC, "destination": padding})
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"
    near = {**BASIC, "note": "x" * 1000}
    assert post(client, token, near).status_code == 400  # read and refused for its key


def test_the_order_costs_what_the_api_quoted(shop, client, token):
    """Promotion (any 3 teas), coupon (WELCOME100) and store credit together."""
    customer = shop.customers.find_by_contact(DEMO_PHONE)
    shop.customers.grant_credit(customer, 200, "gift")
    body = {
        "customer": {"id": customer},
        "lines": [{"sku": "TEA-OOLONG", "quantity": 3}, {"sku": "CHOP-5", "quantity": 1}],
        "custom_items": [{"name": "禮盒包裝", "unit_price": 50}],
        "delivery_method": "711", "payment_method": "transfer",
        "coupon_code": "WELCOME100",
    }
    quoted = post(client, token, body).get_json()
    assert [p["id"] for p in quoted["promotions"]] == ["tea-any-3"]
    assert quoted["coupon"]["applied"] and quoted["credit"]["used"] == 200
    order = shop.orders.create(OrderRequest(
        customer_id=customer, delivery_method="711", payment_method="transfer",
        lines=(LineRequest("TEA-OOLONG", 3), LineRequest("CHOP-5", 1)),
        custom_items=(CustomItemRequest("禮盒包裝", 50),), coupon_code="WELCOME100",
    ), actor="merchant")
    assert order.total == quoted["total"] == 1648 - 200
    assert order.credit_used == 200 and order.discount_total == quoted["discount_total"]
    extras = {"available_payment_methods", "coupons"}
    assert order.pricing == {k: v for k, v in quoted.items() if k not in extras}


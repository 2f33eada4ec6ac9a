"""Builders for tests of the engine-backed order service, over the ``shop`` fixture."""

from __future__ import annotations

from typing import Any

from commerce.pricing import PricingRules
from commerce.services.engine_pricer import EnginePricer
from commerce.services.order_requests import CustomItemRequest, LineRequest, OrderRequest
from commerce.services.order_service import OrderService

DEMO_PHONE = "0912345678"


def rules(*promotions: dict, coupons: tuple[dict, ...] = (), **extra: Any) -> PricingRules:
    return PricingRules(promotions=promotions, coupons=coupons, **extra)


def orders_with(shop, rule_set: PricingRules) -> OrderService:
    """An order service like the shop's, pricing with ``rule_set`` instead of config."""
    checkout = shop.config.checkout()
    payments = checkout.payment_by_code()
    return OrderService(
        shop.uow,
        delivery_methods=checkout.delivery_by_code(),
        payment_methods=payments,
        pricer=EnginePricer(shop.uow, rule_set, payments),
    )


def order_request(
    customer_id: int,
    *lines: tuple[str, int],
    customs: tuple[tuple[str, int, int], ...] = (),
    ship: str = "711",
    pay: str = "transfer",
    **extra: Any,
) -> OrderRequest:
    return OrderRequest(
        customer_id=customer_id,
        delivery_method=ship,
        payment_method=pay,
        lines=tuple(LineRequest(sku, qty) for sku, qty in lines),
        custom_items=tuple(CustomItemRequest(name, price, qty) for name, price, qty in customs),
        **extra,
    )


def new_customer(shop, phone: str, credit: int = 0) -> int:
    customer_id = shop.customers.create(f"顧客{phone[-3:]}", phone=phone)
    if credit:
        shop.customers.grant_credit(customer_id, credit, "gift")
    return customer_id

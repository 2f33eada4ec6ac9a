"""Coupon usage: counted once per confirmed order, released when it ends, limits
held by real threads on a SQLite file."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from commerce.errors import Conflict
from commerce.order_status import OrderStatus
from commerce.pricing import CartLine
from commerce.records import CouponUsage
from commerce.services.order_service import OrderService
from tests.commerce.engine_support import new_customer, order_request, orders_with, rules

S = OrderStatus
LIMITED = {"code": "LIMIT3", "name": "限量折 50", "kind": "fixed", "value": 50,
           "total_limit": 3}
ONCE = {"code": "ONCE", "name": "每人一次", "kind": "fixed", "value": 80,
        "per_customer_limit": 1}
BIG = {"code": "BIG", "name": "滿兩千折兩百", "kind": "fixed", "value": 200,
       "min_spend": 2000}


@pytest.fixture
def orders(shop) -> OrderService:
    return orders_with(shop, rules(coupons=(LIMITED, ONCE, BIG)))


def sent_order(orders: OrderService, customer: int, code: str) -> str:
    order = orders.create(order_request(customer, ("CHOP-5", 1), coupon_code=code), actor="m")
    assert order.pricing["coupon"]["applied"], order.pricing["coupon"]
    orders.send(order.number, actor="m")
    return order.number


def confirm_all_at_once(orders: OrderService, numbers: list[str]) -> dict[str, str]:
    """Confirm every order from its own thread, all released together."""
    outcome: dict[str, str] = {}
    barrier = threading.Barrier(len(numbers))

    def confirm(number: str) -> None:
        barrier.wait()
        try:
            orders.confirm(number, actor="customer")
            outcome[number] = "ok"
        except Conflict:
            outcome[number] = "refused"

    threads = [threading.Thread(target=confirm, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


def coupons_of(orders: OrderService):
    return orders.pricer.coupons


def test_a_use_counts_at_confirmation_once_and_comes_back_on_cancel(shop, orders):
    me, other = new_customer(shop, "0955200001"), new_customer(shop, "0955200002")
    number = sent_order(orders, me, "limit3")
    assert coupons_of(orders).usage("LIMIT3", me) == (0, 0)
    orders.confirm(number, actor="customer")
    orders.confirm(number, actor="customer")
    assert coupons_of(orders).usage("limit3", me) == (1, 1)
    assert coupons_of(orders).usage("LIMIT3", other) == (1, 0)
    assert coupons_of(orders).usage("LIMIT3") == (1, 0)
    orders.submit_proof(number, media_id=None, source="chat")
    orders.verify_payment(number, actor="merchant")
    assert coupons_of(orders).usage("LIMIT3", me) == (1, 1)
    orders.cancel(number, actor="merchant")
    orders.cancel(number, actor="merchant")
    assert coupons_of(orders).usage("LIMIT3", me) == (0, 0)
    with shop.uow() as session:
        rows = session.scalars(select(CouponUsage)).all()
        assert [(r.coupon_code, r.status) for r in rows] == [("LIMIT3", "released")]


def test_drafts_and_expired_orders_never_hold_a_use(shop, orders):
    me = new_customer(shop, "0955200003")
    number = sent_order(orders, me, "LIMIT3")
    orders.cancel(sent_order(orders, me, "LIMIT3"), actor="m")
    view = orders.get(number)
    orders._clock = lambda: view.expires_at
    assert [o.number for o in orders.expire_due()] == [number]
    assert coupons_of(orders).usage("LIMIT3", me) == (0, 0)


def test_concurrent_confirmations_never_pass_the_total_limit(shop, orders):
    customers = [new_customer(shop, f"09553000{i:02d}") for i in range(8)]
    numbers = [sent_order(orders, c, "LIMIT3") for c in customers]
    outcome = confirm_all_at_once(orders, numbers)
    assert sorted(outcome.values()) == ["ok"] * 3 + ["refused"] * 5
    assert coupons_of(orders).usage("LIMIT3") == (3, 0)
    statuses = {n: orders.get(n).status for n in numbers}
    assert {n for n, s in statuses.items() if s is S.AWAITING_PAYMENT} == {
        n for n, result in outcome.items() if result == "ok"}
    assert {n for n, s in statuses.items() if s is S.SENT} == {
        n for n, result in outcome.items() if result == "refused"}


def test_concurrent_confirmations_by_one_buyer_never_pass_the_per_customer_limit(shop, orders):
    me = new_customer(shop, "0955200004")
    numbers = [sent_order(orders, me, "ONCE") for _ in range(4)]
    outcome = confirm_all_at_once(orders, numbers)
    assert sorted(outcome.values()) == ["ok"] + ["refused"] * 3
    assert coupons_of(orders).usage("ONCE", me) == (1, 1)


def test_a_released_use_can_be_taken_again(shop, orders):
    customers = [new_customer(shop, f"09554000{i:02d}") for i in range(4)]
    numbers = [sent_order(orders, c, "LIMIT3") for c in customers]
    for number in numbers[:3]:
        orders.confirm(number, actor="customer")
    with pytest.raises(Conflict, match="LIMIT3") as caught:
        orders.confirm(numbers[3], actor="customer")
    assert caught.value.field == "coupon"
    orders.cancel(numbers[0], actor="merchant")
    assert orders.confirm(numbers[3], actor="customer").changed
    assert coupons_of(orders).usage("LIMIT3") == (3, 0)


def test_the_engine_refuses_a_used_up_coupon_on_the_next_draft(shop, orders):
    me = new_customer(shop, "0955200005")
    orders.confirm(sent_order(orders, me, "ONCE"), actor="customer")
    again = orders.create(order_request(me, ("CHOP-5", 1), coupon_code="ONCE"), actor="m")
    assert again.pricing["coupon"]["reason_code"] == "customer_limit_reached"
    assert again.total == 299 + 60


def test_options_list_usable_coupons_and_why_not_the_others(shop, orders):
    me = new_customer(shop, "0955200006")
    orders.confirm(sent_order(orders, me, "ONCE"), actor="customer")
    cart = [CartLine(sku="TEA-RUBY", name="紅玉", unit_price=450, quantity=2)]
    with shop.uow() as session:
        options = coupons_of(orders).options(session, cart, me, orders.pricer.clock())
    found = {o.coupon.code: (o.usable, o.reason_code, o.saving) for o in options}
    assert found == {
        "LIMIT3": (True, None, 50),
        "ONCE": (False, "customer_limit_reached", 0),
        "BIG": (False, "minimum_not_met", 0),
    }

"""The order aggregate's status table and limits, without a database."""

import pytest

from commerce import limits
from commerce.errors import IllegalTransition, LimitExceeded, ValidationError
from commerce.order_status import ALLOWED_MOVES, OrderStatus
from commerce.orders import Order, OrderItem

S = OrderStatus


def order_in(status: OrderStatus) -> Order:
    return Order(number="261123001", status=status.value, tags=[], note="", events=[])


HAPPY_PATH = [S.SENT, S.CONFIRMED, S.AWAITING_PAYMENT, S.PROOF_SUBMITTED, S.PAID, S.SHIPPED,
              S.COMPLETED]


def test_happy_path_is_allowed_and_recorded():
    order = order_in(S.DRAFT)
    for target in HAPPY_PATH:
        order.move_to(target, actor="test")
    assert order.state is S.COMPLETED
    assert [(e.from_status, e.to_status) for e in order.events][:2] == [
        ("draft", "sent"), ("sent", "confirmed")]
    assert len(order.events) == len(HAPPY_PATH)


def test_rejected_proof_goes_back_to_awaiting_payment():
    order = order_in(S.PROOF_SUBMITTED)
    order.move_to(S.AWAITING_PAYMENT, actor="merchant", note="金額不符")
    assert order.state is S.AWAITING_PAYMENT
    assert order.events[-1].note == "金額不符"


def test_cash_on_delivery_skips_payment():
    order = order_in(S.CONFIRMED)
    order.move_to(S.SHIPPED, actor="merchant")
    assert order.state is S.SHIPPED


@pytest.mark.parametrize("current", list(OrderStatus))
def test_every_move_outside_the_table_is_refused(current):
    for target in OrderStatus:
        order = order_in(current)
        if target in ALLOWED_MOVES[current]:
            order.move_to(target, actor="test")
            assert order.state is target
        else:
            with pytest.raises(IllegalTransition) as err:
                order.move_to(target, actor="test")
            assert order.state is current
            assert order.number in err.value.message


@pytest.mark.parametrize("final", [S.COMPLETED, S.CANCELLED, S.EXPIRED])
def test_final_states_allow_nothing(final):
    assert ALLOWED_MOVES[final] == frozenset()


def test_ten_tags_allowed_eleventh_refused():
    order = order_in(S.DRAFT)
    order.set_tags([f"t{i}" for i in range(limits.ORDER_TAGS_MAX)])
    assert len(order.tags) == 10
    with pytest.raises(LimitExceeded, match="10"):
        order.set_tags([f"t{i}" for i in range(limits.ORDER_TAGS_MAX + 1)])
    assert len(order.tags) == 10


def test_duplicate_tags_are_merged_and_blank_refused():
    order = order_in(S.DRAFT)
    order.set_tags(["VIP", " VIP ", "團購"])
    assert order.tags == ["VIP", "團購"]
    with pytest.raises(ValidationError):
        order.set_tags(["  "])


def test_note_of_200_characters_allowed_201_refused():
    order = order_in(S.DRAFT)
    order.set_note("字" * 200)
    assert len(order.note) == 200
    with pytest.raises(LimitExceeded, match="200"):
        order.set_note("字" * 201)


def test_item_quantity_must_be_positive():
    with pytest.raises(ValidationError):
        OrderItem(name="x", unit_price=1, quantity=0, line_total=0)

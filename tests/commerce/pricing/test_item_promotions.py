"""Stage 2: 任選, buy X get Y, A+B sets, and how competing promotions share units."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.commerce.pricing.factories import NOW, assert_consistent, line, quote, rules, shares


def any_n(tiers, pid="anyn", **extra):
    tiers = [{"quantity": q, "price": p} for q, p in tiers]
    return {"type": "any_n_for_price", "id": pid, "name": "任選", "tiers": tiers, **extra}


def bxgy(buy, get, pid="bxgy", **extra):
    return {
        "type": "buy_x_get_y",
        "id": pid,
        "name": "買X送Y",
        "buy_quantity": buy,
        "get_quantity": get,
        **extra,
    }


def combo(set_price, pid="combo", **extra):
    return {
        "type": "combo",
        "id": pid,
        "name": "套餐",
        "a_categories": ["main"],
        "b_categories": ["drink"],
        "set_price": set_price,
        **extra,
    }


@pytest.mark.parametrize(
    ("promo", "cart", "expected"),
    [
        # the priciest units are chosen; the leftover unit pays full price
        (
            any_n([(3, 999)]),
            [("a", 450, 1), ("b", 400, 1), ("c", 350, 1), ("d", 300, 1)],
            {"a": 75, "b": 67, "c": 59},
        ),
        # too few units: nothing
        (any_n([(3, 999)]), [("a", 450, 1), ("b", 400, 1)], {}),
        # a group already cheaper than the set price is left alone
        (any_n([(3, 999)]), [("a", 300, 3)], {}),
        # units of one line count separately
        (any_n([(2, 500)]), [("a", 300, 3)], {"a": 100}),
        # once only without repeat
        (any_n([(2, 500)]), [("a", 300, 4)], {"a": 100}),
        (any_n([(2, 500)], repeat=True), [("a", 300, 5)], {"a": 200}),
        (any_n([(2, 500)], repeat=True, per_order_limit=1), [("a", 300, 4)], {"a": 100}),
        # the tier saving most wins: 3 for 800 on 500+500+10 saves 210, 2 for 600 saves 400
        (any_n([(2, 600), (3, 800)]), [("a", 500, 2), ("b", 10, 1)], {"a": 400}),
        (any_n([(2, 600), (3, 800)]), [("a", 500, 3)], {"a": 700}),
        # eligibility by SKU and by category
        (any_n([(2, 500)], skus=["a"]), [("a", 300, 1), ("b", 300, 1)], {}),
        (
            any_n([(2, 500)], categories=["tee"]),
            [("a", 300, 1, ("tee",)), ("b", 300, 1, ("tee", "sale")), ("c", 900, 1)],
            {"a": 50, "b": 50},
        ),
    ],
)
def test_any_n_for_price(promo, cart, expected):
    lines = [line(c[0], c[1], c[2], categories=c[3] if len(c) > 3 else ()) for c in cart]
    result = quote(lines, rules(promo))
    assert shares(result, "promotion") == expected
    assert_consistent(result)


@pytest.mark.parametrize(
    ("promo", "cart", "expected"),
    [
        # one pool: priciest unit paid, cheapest unit free
        (bxgy(1, 1), [("a", 500, 1), ("b", 300, 1)], {"b": 300}),
        # n = 3: one application; the cheapest is free even if a mid-priced unit exists
        (bxgy(1, 1), [("a", 500, 1), ("b", 300, 1), ("c", 100, 1)], {"c": 100}),
        (bxgy(1, 1), [("a", 500, 2), ("b", 300, 2)], {"b": 600}),
        (bxgy(1, 1, per_order_limit=1), [("a", 500, 2), ("b", 300, 2)], {"b": 300}),
        (bxgy(2, 1), [("a", 100, 5)], {"a": 100}),
        (bxgy(2, 1), [("a", 100, 6)], {"a": 200}),
        # percent: rounded once over all discounted units (2 × 333 × 50 % = 333)
        (bxgy(1, 1, percent_off=50), [("a", 999, 2), ("b", 333, 2)], {"b": 333}),
        # two pools: buy from the main pool, the cheapest of the get pool discounted
        (
            bxgy(2, 1, skus=["a"], get_skus=["g", "h"]),
            [("a", 400, 4), ("g", 80, 1), ("h", 60, 3)],
            {"h": 120},
        ),
        (bxgy(2, 1, skus=["a"], get_skus=["g"]), [("a", 400, 1), ("g", 80, 3)], {}),
    ],
)
def test_buy_x_get_y(promo, cart, expected):
    result = quote([line(*c) for c in cart], rules(promo))
    assert shares(result, "promotion") == expected
    assert_consistent(result)


def menu(sku, price, qty, category):
    return line(sku, price, qty, categories=(category,))


@pytest.mark.parametrize(
    ("promo", "cart", "expected"),
    [
        # the priciest main goes with the priciest drink
        (
            combo(200),
            [
                menu("m1", 180, 1, "main"),
                menu("m2", 150, 1, "main"),
                menu("d1", 60, 1, "drink"),
                menu("d2", 40, 1, "drink"),
            ],
            {"m1": 30, "d1": 10},
        ),
        (
            combo(200),
            [menu("m1", 180, 2, "main"), menu("d1", 60, 2, "drink")],
            {"m1": 60, "d1": 20},
        ),
        (
            combo(200, per_order_limit=1),
            [menu("m1", 180, 2, "main"), menu("d1", 60, 2, "drink")],
            {"m1": 30, "d1": 10},
        ),
        # a pair already at or below the set price is skipped
        (combo(240), [menu("m1", 180, 1, "main"), menu("d1", 60, 1, "drink")], {}),
        (combo(200), [menu("m1", 180, 2, "main")], {}),
    ],
)
def test_combo(promo, cart, expected):
    result = quote(cart, rules(promo))
    assert shares(result, "promotion") == expected
    assert_consistent(result)


def test_competing_promotions_take_the_best_assignment_not_the_first():
    # priority alone would give the 2-for-500 deal the two 400s (saving 300) and leave
    # nothing for the set; letting the set take a 400 with the drink saves more.
    cart = [menu("m1", 400, 2, "main"), menu("d1", 100, 1, "drink")]
    first = any_n([(2, 500)], pid="a-two", priority=1, categories=["main"])
    second = combo(150, pid="b-set", priority=2)
    result = quote(cart, rules(first, second))
    assert result.promotion_total == 350
    assert [p.id for p in result.promotions] == ["b-set"]


def test_each_unit_serves_one_promotion():
    cart = [line("a", 300, 2)]
    result = quote(cart, rules(any_n([(2, 500)], pid="p1"), any_n([(2, 450)], pid="p2")))
    assert [p.id for p in result.promotions] == ["p2"]
    assert result.promotion_total == 150


def test_equal_savings_keep_priority_then_id():
    cart = [line("a", 300, 2)]
    same = [(2, 500)]
    by_priority = quote(cart, rules(any_n(same, pid="zz", priority=1), any_n(same, pid="aa")))
    assert [p.id for p in by_priority.promotions] == ["zz"]
    by_id = quote(cart, rules(any_n(same, pid="zz"), any_n(same, pid="aa")))
    assert [p.id for p in by_id.promotions] == ["aa"]


def test_equal_priced_units_are_taken_in_sku_order():
    result = quote([line("b", 300), line("a", 300), line("c", 300)], rules(any_n([(2, 500)])))
    assert shares(result, "promotion") == {"a": 50, "b": 50}


@pytest.mark.parametrize(
    ("start", "end", "applies"),
    [
        (NOW, None, True),  # start inclusive
        (None, NOW, False),  # end exclusive
        (NOW + timedelta(seconds=1), None, False),
        (None, NOW + timedelta(seconds=1), True),
        (NOW - timedelta(days=1), NOW + timedelta(days=1), True),
    ],
)
def test_date_windows(start, end, applies):
    promo = any_n([(2, 500)], starts_at=start, ends_at=end)
    result = quote([line("a", 300, 2)], rules(promo))
    assert (result.promotion_total == 100) is applies


def test_gifts_are_listed_at_zero_and_never_promoted():
    result = quote([line("a", 300, 2), line("a", 300, is_gift=True)], rules(any_n([(3, 600)])))
    gift = next(ln for ln in result.lines if ln.is_gift)
    assert (gift.key, gift.unit_price, gift.list_amount, gift.final_amount) == ("a#gift", 0, 0, 0)
    assert gift.adjustments == ()
    assert result.promotion_total == 0
    assert result.subtotal == 600


# Mains 400 x 2 and a 300 drink. Taking the biggest saving first (both mains for 450,
# saving 350) blocks the set (250) and the single main for 200 (200), which together
# save 450.
TRAP_CART = [menu("m1", 400, 2, "main"), menu("d1", 300, 1, "drink")]
TRAP = [
    any_n([(2, 450)], pid="both-mains", categories=["main"]),
    combo(450, pid="main-drink-set"),
    any_n([(1, 200)], pid="one-main", categories=["main"]),
]


def test_more_than_six_promotions_in_small_groups_are_still_searched_exactly():
    # 3 competing promotions plus 4 on products nothing else touches: 7 applicable,
    # in groups of 3, 1, 1, 1, 1. Each group is within EXHAUSTIVE_LIMIT, so each is
    # searched exactly (the whole cart used to get the greedy pass: 350 + 4 x 100).
    others = [
        any_n([(2, 100)], pid=f"side-{n}", categories=[f"side{n}"]) for n in range(4)
    ]
    cart = TRAP_CART + [menu(f"s{n}", 100, 2, f"side{n}") for n in range(4)]
    result = quote(cart, rules(*TRAP, *others))
    assert result.promotion_total == 450 + 4 * 100
    assert {p.id for p in result.promotions} == {
        "main-drink-set", "one-main", "side-0", "side-1", "side-2", "side-3"
    }
    assert_consistent(result)


def test_a_group_of_more_than_six_competing_promotions_takes_the_greedy_pass():
    # the same trap with four more promotions on the mains: one group of 7, past
    # EXHAUSTIVE_LIMIT, so the biggest saving goes first and blocks the rest
    weak = [any_n([(2, 790)], pid=f"weak-{n}", categories=["main"]) for n in range(4)]
    result = quote(TRAP_CART, rules(*TRAP, *weak))
    assert result.promotion_total == 350
    assert [p.id for p in result.promotions] == ["both-mains"]

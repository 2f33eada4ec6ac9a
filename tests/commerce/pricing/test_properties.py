"""Properties that hold for any cart and any rules (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce.pricing import CouponRequest, CustomDiscount, PricingRules
from tests.commerce.pricing.factories import assert_consistent, delivery, finals, line, quote

SKUS = ["a", "b", "c", "d", "e", "f"]
FAST = settings(max_examples=150, deadline=None)

targeting = st.one_of(
    st.fixed_dictionaries({"categories": st.lists(st.sampled_from(["x", "y"]), min_size=1)}),
    st.fixed_dictionaries({"skus": st.lists(st.sampled_from(SKUS), min_size=1)}),
)
everything = st.one_of(st.just({}), targeting)


def promotions(eligible: st.SearchStrategy[dict]) -> st.SearchStrategy[list[dict]]:
    common = {"priority": st.integers(0, 3), "per_order_limit": st.none() | st.integers(1, 3)}
    any_n = st.fixed_dictionaries(
        {
            "type": st.just("any_n_for_price"),
            "repeat": st.booleans(),
            **common,
            "tiers": st.lists(
                st.fixed_dictionaries(
                    {"quantity": st.integers(1, 4), "price": st.integers(0, 3000)}
                ),
                min_size=1,
                max_size=2,
                unique_by=lambda t: t["quantity"],
            ),
        },
    )
    bxgy = st.fixed_dictionaries(
        {
            "type": st.just("buy_x_get_y"),
            "buy_quantity": st.integers(1, 3),
            "get_quantity": st.integers(1, 2),
            "percent_off": st.integers(1, 100),
            **common,
        },
    )
    combo = st.fixed_dictionaries(
        {
            "type": st.just("combo"),
            "a_categories": st.just(["x"]),
            "b_categories": st.just(["y"]),
            "set_price": st.integers(0, 2000),
            **common,
        },
    )
    threshold = st.fixed_dictionaries(
        {"type": st.just("spend_threshold"), "min_spend": st.integers(1, 4000), **common},
    ).flatmap(
        lambda d: st.one_of(
            st.fixed_dictionaries({"amount_off": st.integers(1, 2000), "repeat": st.booleans()}),
            st.fixed_dictionaries({"percent_off": st.integers(1, 100)}),
        ).map(lambda reward: d | reward)
    )
    one = st.tuples(st.one_of(any_n, bxgy, threshold), eligible).map(lambda t: t[0] | t[1])
    kinds = st.one_of(one, combo)
    return st.lists(kinds, max_size=4).map(
        lambda ps: [p | {"id": f"p{i}", "name": f"促銷{i}"} for i, p in enumerate(ps)]
    )


def coupons(eligible, exclusive) -> st.SearchStrategy[list[dict]]:
    coupon = st.tuples(
        st.fixed_dictionaries(
            {
                "code": st.just("CODE"),
                "name": st.just("券"),
                "kind": st.sampled_from(["fixed", "percent"]),
                "value": st.integers(1, 100),
                "min_spend": st.integers(0, 3000),
                "exclusive": exclusive,
            }
        ),
        eligible,
    ).map(lambda t: t[0] | t[1])
    return st.lists(coupon, max_size=1)


def cart(gifts: bool = True):
    one = st.builds(
        lambda price, qty, cats, gift, no_order: dict(
            unit_price=price,
            quantity=qty,
            categories=tuple(cats),
            is_gift=gift,
            no_order_discounts=no_order,
        ),
        st.integers(0, 2000),
        st.integers(1, 4),
        st.lists(st.sampled_from(["x", "y"]), max_size=2),
        st.booleans() if gifts else st.just(False),
        st.booleans(),
    )
    return st.lists(one, min_size=0, max_size=5).map(
        lambda rows: [line(SKUS[i], **row) for i, row in enumerate(rows)]
    )


customs = st.lists(
    st.one_of(
        st.builds(lambda a: CustomDiscount("折", amount=a), st.integers(1, 500)),
        st.builds(lambda p: CustomDiscount("折", percent=p), st.integers(1, 100)),
    ),
    max_size=5,
)
credit_policy = st.fixed_dictionaries(
    {
        "enabled": st.booleans(),
        "min_order_amount": st.integers(0, 2000),
        "max_per_order": st.none() | st.integers(0, 1000),
        "max_percent": st.none() | st.integers(0, 100),
        "include_shipping_in_base": st.booleans(),
        "merchant_may_choose": st.just(True),
    }
)
tax = st.fixed_dictionaries({"mode": st.sampled_from(["inclusive", "exclusive"])})


@st.composite
def scenarios(draw):
    rules = PricingRules(
        promotions=draw(promotions(everything)),
        coupons=draw(coupons(everything, st.booleans())),
        store_credit=draw(credit_policy),
        tax=draw(tax),
        stack_order_promotions=draw(st.booleans()),
    )
    extra = {
        "coupon": draw(st.sampled_from([None, CouponRequest("CODE")])),
        "custom": tuple(draw(customs)),
        "credit_balance": draw(st.integers(0, 3000)),
        "credit_requested": draw(st.none() | st.integers(0, 3000)),
        "delivery": delivery(
            fee=draw(st.integers(0, 200)), free_over=draw(st.none() | st.integers(0, 3000))
        ),
    }
    return draw(cart()), rules, extra


@FAST
@given(scenarios())
def test_every_breakdown_is_consistent_and_never_negative(scenario):
    lines, rules, extra = scenario
    result = quote(lines, rules, **extra)
    assert_consistent(result)
    assert result.discount_total <= result.subtotal
    assert result.credit.used <= result.credit.balance


@FAST
@given(scenarios(), st.randoms())
def test_result_does_not_depend_on_line_order(scenario, rnd):
    lines, rules, extra = scenario
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    first, second = quote(lines, rules, **extra), quote(shuffled, rules, **extra)
    assert finals(first) == finals(second)
    assert {ln.key: ln.adjustments for ln in first.lines} == {
        ln.key: ln.adjustments for ln in second.lines
    }
    assert {ln.key: ln.credit_share for ln in first.lines} == {
        ln.key: ln.credit_share for ln in second.lines
    }
    assert (first.total, first.coupon, first.credit, first.shipping, first.tax) == (
        second.total,
        second.coupon,
        second.credit,
        second.shipping,
        second.tax,
    )


@FAST
@given(
    cart(gifts=False),
    promotions(targeting),
    coupons(targeting, st.just(False)),
    st.integers(1, 3000),
    st.booleans(),
)
def test_adding_an_item_no_rule_targets_never_raises_another_line(
    lines, promos, coupon_defs, extra_price, with_coupon
):
    rules = PricingRules(promotions=promos, coupons=coupon_defs)
    coupon = CouponRequest("CODE") if with_coupon else None
    before = quote(lines, rules, coupon=coupon)
    added = line("zz", extra_price, categories=("other",), no_order_discounts=True)
    after = quote([*lines, added], rules, coupon=coupon)
    for key, amount in finals(before).items():
        assert finals(after)[key] <= amount
    assert after.total <= before.total + extra_price


@FAST
@given(cart(gifts=False), st.integers(0, 5), st.integers(1, 4), st.integers(0, 3000))
def test_adding_units_never_lowers_an_any_n_or_threshold_saving(lines, which, qty, min_spend):
    promo = [
        {"type": "any_n_for_price", "tiers": [{"quantity": 3, "price": 999}]},
        {"type": "spend_threshold", "min_spend": min_spend + 1, "amount_off": 100},
        {"type": "spend_threshold", "min_spend": min_spend + 1, "percent_off": 10},
    ][which % 3] | {"id": "p", "name": "促銷"}
    rules = PricingRules(promotions=[promo])
    before = quote(lines, rules)
    more = [
        replace(ln, quantity=ln.quantity + qty) if i == which else ln for i, ln in enumerate(lines)
    ]
    after = quote(more, rules)
    assert after.promotion_total >= before.promotion_total


# The doc's own rules make some lines dearer when a *targeted* item is added, which is
# why the property above adds an untargeted one. These pin that behaviour on purpose.

PINNED = [
    # buy 1 get 1, the cheapest free: a 100 item takes the free slot from the 300 one
    (
        {"type": "buy_x_get_y", "buy_quantity": 1, "get_quantity": 1},
        [("p", 500), ("q", 300)],
        ("r", 100),
        "q",
        0,
        300,
    ),
    # any 3 for 999 takes the priciest units: a 500 item pushes the 350 one out
    (
        {"type": "any_n_for_price", "tiers": [{"quantity": 3, "price": 999}]},
        [("p", 450), ("q", 400), ("r", 350)],
        ("s", 500),
        "r",
        291,
        350,
    ),
    # a fixed threshold discount is spread over more lines, so each share shrinks
    (
        {"type": "spend_threshold", "min_spend": 1000, "amount_off": 100},
        [("p", 980), ("q", 350)],
        ("r", 1000),
        "p",
        906,
        938,
    ),
]


@pytest.mark.parametrize(
    ("promo", "cart_rows", "added", "watched", "before_amount", "after_amount"),
    PINNED,
    ids=["bxgy-cheapest-free", "any-n-priciest", "proportional-share"],
)
def test_pinned_cases_where_adding_a_targeted_item_raises_another_line(
    promo, cart_rows, added, watched, before_amount, after_amount
):
    rules = PricingRules(promotions=[promo | {"id": "p", "name": "促銷"}])
    lines = [line(sku, unit_price) for sku, unit_price in cart_rows]
    assert finals(quote(lines, rules))[watched] == before_amount
    assert finals(quote([*lines, line(*added)], rules))[watched] == after_amount

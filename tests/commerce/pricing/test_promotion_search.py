"""The item-promotion search against a plain reference of the rule it implements.

``item_promotions.choose`` splits promotions into independent groups, walks orders
depth first and remembers states it has seen. The rule it must keep is the simple
one below (``reference_choose``, the engine's search before those changes): try every
order of the applicable promotions in (priority, id) order, apply each promotion from
scratch, keep the first order with the largest total saving. Beyond six applicable
promotions that reference took a greedy pass instead, which the engine now does only
per group (see docs/pricing.md); ``reference_greedy`` is that old pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import permutations
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from commerce.money import round_half_up
from commerce.pricing import PricingRules, item_promotions
from commerce.pricing.allocation import targets
from commerce.pricing.cart import CartLine, merge_lines
from commerce.pricing.item_promotions import EXHAUSTIVE_LIMIT, Application, choose
from commerce.pricing.rules import AnyNForPrice, BuyXGetY, ItemPromotion
from tests.commerce.pricing.factories import NOW, assert_consistent, line, quote

Counts = dict[str, int]

# --- the reference: every order, each promotion applied from scratch ---------------


class _RefPool:
    def __init__(self, lines: dict[str, CartLine], left: Counts) -> None:
        self.lines, self.left = lines, left

    def order(self, skus: Sequence[str], categories: Sequence[str], priciest_first: bool):
        sign = -1 if priciest_first else 1
        found = [k for k, n in self.left.items() if n and targets(self.lines[k], skus, categories)]
        return sorted(found, key=lambda k: (sign * self.lines[k].unit_price, k))

    def take(self, order: Iterable[str], count: int, taken: Counts) -> Counts | None:
        chosen: Counts = {}
        for key in order:
            n = min(self.left[key] - taken.get(key, 0), count)
            if n > 0:
                chosen[key] = n
                count -= n
            if count == 0:
                return chosen
        return None

    def value(self, counts: Counts) -> int:
        return sum(self.lines[k].unit_price * n for k, n in counts.items())

    def weights(self, counts: Counts) -> Counts:
        return {k: self.lines[k].unit_price * n for k, n in counts.items()}

    def without(self, used: Counts) -> _RefPool:
        return _RefPool(self.lines, {k: n - used.get(k, 0) for k, n in self.left.items()})


def _plus(a: Counts, b: Counts) -> Counts:
    total = dict(a)
    for k, n in b.items():
        total[k] = total.get(k, 0) + n
    return total


def _room(promo: ItemPromotion, done: int) -> bool:
    return promo.per_order_limit is None or done < promo.per_order_limit


def _ref_apply(promo: ItemPromotion, pool: _RefPool) -> Application | None:
    used: Counts = {}
    parts: list[tuple[int, Counts]] = []
    if isinstance(promo, AnyNForPrice):
        order = pool.order(promo.skus, promo.categories, True)
        while _room(promo, len(parts)) and (promo.repeat or not parts):
            best = None
            for tier in promo.tiers:
                chosen = pool.take(order, tier.quantity, used)
                if chosen is None:
                    break
                saving = pool.value(chosen) - tier.price
                if saving > 0 and (best is None or saving >= best[0]):
                    best = (saving, chosen)
            if best is None:
                break
            used = _plus(used, best[1])
            parts.append((best[0], pool.weights(best[1])))
    elif isinstance(promo, BuyXGetY):
        get = (promo.get_skus, promo.get_categories)
        if not any(get):
            get = (promo.skus, promo.categories)
        buy_order = pool.order(promo.skus, promo.categories, True)
        get_order = pool.order(*get, False)
        discounted: Counts = {}
        rounds = 0
        while _room(promo, rounds):
            paid = pool.take(buy_order, promo.buy_quantity, used)
            free = pool.take(get_order, promo.get_quantity, _plus(used, paid)) if paid else None
            if paid is None or free is None:
                break
            used = _plus(_plus(used, paid), free)
            discounted = _plus(discounted, free)
            rounds += 1
        saving = round_half_up(pool.value(discounted) * promo.percent_off, 100)
        if saving:
            parts.append((saving, pool.weights(discounted)))
    else:
        a_order = pool.order(promo.a_skus, promo.a_categories, True)
        b_order = pool.order(promo.b_skus, promo.b_categories, True)
        while _room(promo, len(parts)):
            a = pool.take(a_order, 1, used)
            b = pool.take(b_order, 1, _plus(used, a)) if a is not None else None
            if a is None or b is None or pool.value(_plus(a, b)) <= promo.set_price:
                break
            pair = _plus(a, b)
            used = _plus(used, pair)
            parts.append((pool.value(pair) - promo.set_price, pool.weights(pair)))
    return Application(promo, tuple(parts), used) if parts else None


def _ref_start(promotions: Sequence[ItemPromotion], lines: Sequence[CartLine]):
    pool = _RefPool(
        {ln.key: ln for ln in lines}, {ln.key: ln.quantity for ln in lines if not ln.is_gift}
    )
    ordered = sorted(promotions, key=lambda p: (p.priority, p.id))
    return pool, [p for p in ordered if _ref_apply(p, pool) is not None]


def reference_choose(
    promotions: Sequence[ItemPromotion], lines: Sequence[CartLine], *, limit: int = 6
) -> list[Application]:
    """The old search: every order of the applicable promotions (up to ``limit`` of
    them, else the old greedy pass), first order with the largest saving wins."""
    pool, live = _ref_start(promotions, lines)
    if len(live) > limit:
        return reference_greedy(promotions, lines)
    best: list[Application] = []
    for order in permutations(live):
        found, state = [], pool
        for promo in order:
            applied = _ref_apply(promo, state)
            if applied is not None:
                found.append(applied)
                state = state.without(applied.used)
        if sum(a.saving for a in found) > sum(a.saving for a in best):
            best = found
    return best


def reference_greedy(
    promotions: Sequence[ItemPromotion], lines: Sequence[CartLine]
) -> list[Application]:
    """The old pass for more than six applicable promotions: biggest saving next."""
    pool, remaining = _ref_start(promotions, lines)
    done: list[Application] = []
    while remaining:
        tried = [(p, _ref_apply(p, pool)) for p in remaining]
        promo, applied = max(tried, key=lambda t: t[1].saving if t[1] else 0)
        if applied is None:
            break
        done.append(applied)
        pool = pool.without(applied.used)
        remaining.remove(promo)
    return done


# --- random carts and promotions --------------------------------------------------

SKUS = ["a", "b", "c", "d", "e", "f", "g", "h"]
CATEGORIES = ["w", "x", "y", "z"]
# few prices, so equal-priced units (ties by SKU) and free items come up often
prices = st.sampled_from([0, 40, 100, 100, 150, 300, 300, 480, 500, 900])
# mostly narrow, so that promotions often fall into separate groups
products = st.one_of(
    st.fixed_dictionaries({"categories": st.sampled_from(CATEGORIES).map(lambda c: [c])}),
    st.fixed_dictionaries({"categories": st.lists(st.sampled_from(CATEGORIES), min_size=1)}),
    st.fixed_dictionaries({"skus": st.lists(st.sampled_from(SKUS), min_size=1, max_size=3)}),
    st.just({}),
)


def _named(products: dict, prefix: str) -> dict:
    return {f"{prefix}{key}": value for key, value in products.items()} or {
        f"{prefix}categories": ["x"]
    }


def promotion_strategy(products: st.SearchStrategy[dict], common: dict, *, price_max: int,
                       buy_max: int, percents: list[int],
                       get_products: st.SearchStrategy[dict],
                       set_price_max: int) -> st.SearchStrategy[dict]:
    """One item promotion of any kind: "any N for P", buy X get Y (the free units
    from ``get_products``, ``{}`` meaning the same products) or an A+B combo."""
    any_n = st.tuples(
        st.fixed_dictionaries(
            {
                "type": st.just("any_n_for_price"),
                "repeat": st.booleans(),
                "tiers": st.lists(
                    st.fixed_dictionaries(
                        {"quantity": st.integers(1, 4), "price": st.integers(0, price_max)}
                    ),
                    min_size=1,
                    max_size=3,
                    unique_by=lambda t: t["quantity"],
                ),
                **common,
            }
        ),
        products,
    ).map(lambda t: t[0] | t[1])
    bxgy = st.tuples(
        st.fixed_dictionaries(
            {
                "type": st.just("buy_x_get_y"),
                "buy_quantity": st.integers(1, buy_max),
                "get_quantity": st.integers(1, 2),
                "percent_off": st.sampled_from(percents),
                **common,
            }
        ),
        products,
        get_products,
    ).map(lambda t: t[0] | t[1] | t[2])
    combo = st.tuples(
        st.fixed_dictionaries(
            {"type": st.just("combo"), "set_price": st.integers(0, set_price_max), **common}
        ),
        products.map(lambda p: _named(p, "a_")),
        products.map(lambda p: _named(p, "b_")),
    ).map(lambda t: t[0] | t[1] | t[2])
    return st.one_of(any_n, bxgy, combo)


common = {"priority": st.integers(0, 2), "per_order_limit": st.none() | st.integers(1, 3)}
any_promotion = promotion_strategy(
    products, common, price_max=900, buy_max=3, percents=[1, 30, 50, 100],
    get_products=st.one_of(st.just({}), products.map(lambda p: _named(p, "get_"))),
    set_price_max=700)


def _rules(promotions: list[dict], ids: list[int]) -> PricingRules:
    named = [p | {"id": f"p{i}", "name": f"促銷{i}"} for p, i in zip(promotions, ids, strict=True)]
    return PricingRules(promotions=named)


def item_promotion_sets(max_size: int, min_size: int = 0) -> st.SearchStrategy[PricingRules]:
    """Promotions with shuffled ids, so (priority, id) order is not the drawing order."""
    return st.lists(
        any_promotion, min_size=min_size, max_size=max_size
    ).flatmap(lambda ps: st.permutations(range(len(ps))).map(lambda ids: _rules(ps, ids)))


carts = st.lists(
    st.builds(
        lambda price, qty, cats, gift: dict(
            unit_price=price, quantity=qty, categories=tuple(cats), is_gift=gift
        ),
        prices,
        st.integers(1, 5),
        st.sampled_from(CATEGORIES).map(lambda c: [c]) | st.lists(st.sampled_from(CATEGORIES)),
        st.sampled_from([False, False, False, True]),
    ),
    min_size=2,
    max_size=len(SKUS),
).map(lambda rows: [line(SKUS[i], **row) for i, row in enumerate(rows)])


# Tangled sets: five or six promotions that mostly reach the same lines, so they form
# one group the search cannot split at first (some name only a few SKUs, so what is
# left can fall apart once the broad ones are placed), on carts with small integer
# prices, so that different orders often save exactly the same and only the
# (priority, id) order decides between them: in about two examples of three two
# orders tie for the best saving with different results. This is where a wrong
# bound, a state remembered too loosely or a tie taken the wrong way would show.
TANGLED_SKUS = SKUS[:6]
TANGLED_CATEGORIES = ["x", "y"]
broad_products = st.one_of(
    st.just({}),
    st.just({}),
    st.fixed_dictionaries(
        {"categories": st.lists(st.sampled_from(TANGLED_CATEGORIES), min_size=1, unique=True)}
    ),
    st.fixed_dictionaries(
        {"skus": st.lists(st.sampled_from(TANGLED_SKUS), min_size=1, max_size=4, unique=True)}
    ),
)
tangled_common = {"priority": st.integers(0, 1), "per_order_limit": st.none() | st.integers(1, 2)}
tangled_promotion = promotion_strategy(
    broad_products, tangled_common, price_max=8, buy_max=2, percents=[50, 100, 100],
    get_products=st.one_of(st.just({}), st.just({}),
                           broad_products.map(lambda p: _named(p, "get_"))),
    set_price_max=6)
tangled_sets = st.lists(
    tangled_promotion, min_size=5, max_size=EXHAUSTIVE_LIMIT
).flatmap(lambda ps: st.permutations(range(len(ps))).map(lambda ids: _rules(ps, ids)))
tangled_carts = st.lists(
    st.builds(
        lambda price, qty, cats, gift: dict(
            unit_price=price, quantity=qty, categories=tuple(cats), is_gift=gift
        ),
        st.sampled_from([0, 1, 2, 2, 3, 3, 4, 5, 6]),
        st.integers(1, 4),
        st.lists(st.sampled_from(TANGLED_CATEGORIES), min_size=1, max_size=2, unique=True),
        st.sampled_from([False] * 7 + [True]),
    ),
    min_size=3,
    max_size=len(TANGLED_SKUS),
).map(lambda rows: [line(TANGLED_SKUS[i], **row) for i, row in enumerate(rows)])


def _described(applications: Sequence[Application]) -> list[tuple]:
    return [(a.promotion.id, a.parts, a.used) for a in applications]


# --- properties -------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(carts, item_promotion_sets(max_size=EXHAUSTIVE_LIMIT, min_size=2))
def test_search_gives_what_trying_every_order_gives(lines, rules):
    promotions = rules.item_promotions(NOW)
    merged = merge_lines(tuple(lines))
    found = choose(promotions, merged)
    expected = reference_choose(promotions, merged)
    assert _described(found) == _described(expected)
    assert sum(a.saving for a in found) == sum(a.saving for a in expected)


@settings(max_examples=300, deadline=None)
@given(tangled_carts, tangled_sets)
def test_search_of_one_tangled_group_gives_what_trying_every_order_gives(lines, rules):
    promotions = rules.item_promotions(NOW)
    merged = merge_lines(tuple(lines))
    found = choose(promotions, merged)
    expected = reference_choose(promotions, merged)
    assert _described(found) == _described(expected)


@settings(max_examples=100, deadline=None)
@given(carts, item_promotion_sets(max_size=EXHAUSTIVE_LIMIT))
def test_whole_quote_matches_the_reference_search(lines, rules):
    result = quote(lines, rules)
    with mock.patch.object(item_promotions, "choose", reference_choose):
        expected = quote(lines, rules)
    assert result == expected
    assert_consistent(result)


@settings(max_examples=150, deadline=None)
@given(carts, item_promotion_sets(max_size=9, min_size=EXHAUSTIVE_LIMIT + 1))
def test_more_than_six_promotions_never_save_less_than_the_old_greedy_pass(lines, rules):
    promotions = rules.item_promotions(NOW)
    merged = merge_lines(tuple(lines))
    found = choose(promotions, merged)
    greedy = reference_greedy(promotions, merged)
    assert sum(a.saving for a in found) >= sum(a.saving for a in greedy)
    used: Counts = {}
    for application in found:
        for key, n in application.used.items():
            used[key] = used.get(key, 0) + n
    stock = {ln.key: ln.quantity for ln in merged}
    assert all(n <= stock[key] for key, n in used.items())

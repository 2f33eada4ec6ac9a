"""Stage 2: item promotions (任選, buy X get Y, A+B sets).

Each unit of merchandise serves at most one promotion. Units are handled as counts
per line (all units of a line share a price), so a quantity of 500 costs no more than
a quantity of 5. Choosing which promotion gets which units is the customer's best
case: the result is the one trying every order of the applicable promotions would
give, the largest total saving winning and equal savings keeping the (priority, id)
order (the first such order, counting orders lexicographically by that ranking).

That search is not done by brute force:

- Each promotion's eligible lines, sorted the way it takes them, are worked out once
  per quote; pool states are plain lists of free units per line.
- Promotions whose eligible lines do not overlap cannot affect each other, so the
  applicable promotions are split into groups (connected components of "shares an
  eligible line") and each group is searched alone. The same split is made again
  inside the search, whenever the promotions still to place fall apart.
- The search is a depth-first walk over orders: a common prefix is applied once and
  its pool carried down, and the best completion of a (promotions left, pool) state is
  remembered, so orders that reach the same state share the work.

``EXHAUSTIVE_LIMIT`` applies per group: a group of up to six applicable promotions is
searched exhaustively, a larger one by a greedy pass (biggest saving next). See
docs/pricing.md for why this is exact and what changed against a limit on the count of
all applicable promotions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from commerce.money import round_half_up
from commerce.pricing.allocation import WorkingLine, spread
from commerce.pricing.breakdown import AdjustmentSource, AppliedPromotion, PromotionStage
from commerce.pricing.cart import CartLine
from commerce.pricing.rules import AnyNForPrice, BuyXGetY, Combo, ItemPromotion

EXHAUSTIVE_LIMIT = 6

Counts = dict[str, int]
# Units taken from the pool as (line index, units); a line may appear more than once.
Taken = list[tuple[int, int]]
# One promotion applied to a pool: (total saving, ((saving, units priced), ...), every
# unit it used up). Made at every node of the search, so a plain tuple; an
# ``Application`` is built for the winners only.
Outcome = tuple[int, tuple[tuple[int, Taken], ...], Taken]
# Free units per line index. Runners change it while they work and put it back.
Pool = list[int]
Runner = Callable[[Pool], Outcome | None]


@dataclass(frozen=True)
class Application:
    """What one promotion did: discounts, each spread over the units it priced
    (``weights`` by line key), and every unit it used up, paid ones included."""

    promotion: ItemPromotion
    parts: tuple[tuple[int, Counts], ...]
    used: Counts

    @property
    def saving(self) -> int:
        return sum(amount for amount, _ in self.parts)


def _take(order: Sequence[int], left: Pool, count: int) -> Taken | None:
    """The first ``count`` free units along ``order``, or None if there are fewer."""
    chosen: Taken = []
    for i in order:
        n = left[i]
        if n:
            if n >= count:
                chosen.append((i, count))
                return chosen
            chosen.append((i, n))
            count -= n
    return None


def _first(order: Sequence[int], left: Pool) -> int:
    """The first line along ``order`` with a free unit, or -1."""
    for i in order:
        if left[i]:
            return i
    return -1


def _give_back(left: Pool, taken: Taken) -> None:
    for i, n in taken:
        left[i] += n


class _Cart:
    """The quote's non-gift lines, by index: key, unit price and units in the cart."""

    def __init__(self, lines: Sequence[CartLine]) -> None:
        by_key = {line.key: line for line in lines if not line.is_gift}
        self.lines = list(by_key.values())
        self.keys = list(by_key)
        self.prices = [line.unit_price for line in self.lines]
        self.start: Pool = [line.quantity for line in self.lines]
        self._by_sku = {line.sku: i for i, line in enumerate(self.lines)}
        self._by_category: dict[str, list[int]] = {}
        for i, line in enumerate(self.lines):
            for category in line.categories:
                self._by_category.setdefault(category, []).append(i)
        self._orders: dict[tuple[tuple[str, ...], tuple[str, ...], bool], tuple[int, ...]] = {}

    def covered(self, skus: tuple[str, ...], categories: tuple[str, ...]) -> set[int]:
        """The lines ``allocation.targets`` says a rule naming these products covers
        (none named: all), found through indexes instead of testing every line."""
        if not skus and not categories:
            return set(range(len(self.lines)))
        found = {self._by_sku[sku] for sku in skus if sku in self._by_sku}
        for category in categories:
            found.update(self._by_category.get(category, ()))
        return found

    def order(
        self, skus: tuple[str, ...], categories: tuple[str, ...], *, priciest_first: bool
    ) -> tuple[int, ...]:
        """Indices of the lines a rule covers, the way it takes them: by price, equal
        prices in key (SKU) order. Worked out once per quote (and shared by rules
        naming the same products); lines whose units run out during the search stay
        in the list and are skipped."""
        wanted = (skus, categories, priciest_first)
        found = self._orders.get(wanted)
        if found is None:
            sign = -1 if priciest_first else 1
            prices, keys = self.prices, self.keys
            covered = self.covered(skus, categories)
            found = tuple(sorted(covered, key=lambda i: (sign * prices[i], keys[i])))
            self._orders[wanted] = found
        return found

    def counts(self, taken: Taken) -> Counts:
        counts: Counts = {}
        for i, n in taken:
            key = self.keys[i]
            counts[key] = counts.get(key, 0) + n
        return counts

    def weights(self, taken: Taken) -> Counts:
        weights: Counts = {}
        for i, n in taken:
            key = self.keys[i]
            weights[key] = weights.get(key, 0) + self.prices[i] * n
        return weights

    def after(self, left: Pool, outcome: Outcome | None) -> Pool:
        """The pool once ``outcome`` has taken its units (``left`` is not changed)."""
        if outcome is None:
            return left
        after = left.copy()
        for i, n in outcome[2]:
            after[i] -= n
        return after


class _Rule:
    """One item promotion compiled against the cart.

    ``rank`` is its place in the (priority, id) order, ``mask`` has a bit per eligible
    line (for grouping), ``state`` reads the free units of those lines (all its result
    depends on), and ``run`` applies it to a pool, leaving the pool as it found it.
    """

    __slots__ = ("promotion", "rank", "bit", "lines", "mask", "state", "run")

    def __init__(self, promotion: ItemPromotion, rank: int, cart: _Cart) -> None:
        self.promotion = promotion
        self.rank = rank
        self.bit = 1 << rank
        orders: tuple[tuple[int, ...], ...]
        if isinstance(promotion, AnyNForPrice):
            orders = (cart.order(promotion.skus, promotion.categories, priciest_first=True),)
            self.run = _any_n(promotion, orders[0], cart.prices)
        elif isinstance(promotion, BuyXGetY):
            get_skus, get_categories = promotion.get_skus, promotion.get_categories
            if not get_skus and not get_categories:
                get_skus, get_categories = promotion.skus, promotion.categories
            orders = (
                cart.order(promotion.skus, promotion.categories, priciest_first=True),
                cart.order(get_skus, get_categories, priciest_first=False),
            )
            self.run = _buy_x_get_y(promotion, *orders, cart.prices)
        else:
            orders = (
                cart.order(promotion.a_skus, promotion.a_categories, priciest_first=True),
                cart.order(promotion.b_skus, promotion.b_categories, priciest_first=True),
            )
            self.run = _combo(promotion, *orders, cart.prices)
        self.lines = sorted({i for order in orders for i in order})
        self.mask = sum(1 << i for i in self.lines)
        self.state = _reader(self.lines)


def _reader(lines: Sequence[int]) -> Callable[[Pool], object]:
    """A fast read of the free units of ``lines``, usable as a dictionary key."""
    if not lines:
        return lambda left: ()
    return itemgetter(*lines)


def _any_n(promo: AnyNForPrice, order: tuple[int, ...], prices: list[int]) -> Runner:
    limit = promo.per_order_limit
    tiers = [(tier.quantity, tier.price) for tier in promo.tiers]

    def run(left: Pool) -> Outcome | None:
        parts: list[tuple[int, Taken]] = []
        while (limit is None or len(parts) < limit) and (promo.repeat or not parts):
            best: Taken | None = None
            best_saving = 0
            for quantity, set_price in tiers:
                chosen = _take(order, left, quantity)
                if chosen is None:
                    break
                saving = sum(prices[i] * n for i, n in chosen) - set_price
                # ``>=``: equal savings take the larger tier (tiers are ascending)
                if saving > 0 and (best is None or saving >= best_saving):
                    best, best_saving = chosen, saving
            if best is None:
                break
            for i, n in best:
                left[i] -= n
            parts.append((best_saving, best))
        if not parts:
            return None
        used = [unit for _, taken in parts for unit in taken]
        _give_back(left, used)
        return sum(saving for saving, _ in parts), tuple(parts), used

    return run


def _buy_x_get_y(
    promo: BuyXGetY, buy_order: tuple[int, ...], get_order: tuple[int, ...], prices: list[int]
) -> Runner:
    limit = promo.per_order_limit
    buy, get, percent = promo.buy_quantity, promo.get_quantity, promo.percent_off

    def run(left: Pool) -> Outcome | None:
        used: Taken = []
        discounted: Taken = []
        rounds = 0
        while limit is None or rounds < limit:
            paid = _take(buy_order, left, buy)
            if paid is None:
                break
            for i, n in paid:
                left[i] -= n
            free = _take(get_order, left, get)
            if free is None:
                _give_back(left, paid)
                break
            for i, n in free:
                left[i] -= n
            used += paid
            used += free
            discounted += free
            rounds += 1
        _give_back(left, used)
        # a percentage is rounded once, over all discounted units
        saving = round_half_up(sum(prices[i] * n for i, n in discounted) * percent, 100)
        if not saving:
            return None
        return saving, ((saving, discounted),), used

    return run


def _combo(
    promo: Combo, a_order: tuple[int, ...], b_order: tuple[int, ...], prices: list[int]
) -> Runner:
    limit = promo.per_order_limit
    set_price = promo.set_price

    def run(left: Pool) -> Outcome | None:
        parts: list[tuple[int, Taken]] = []
        used: Taken = []
        while limit is None or len(parts) < limit:
            a = _first(a_order, left)
            if a < 0:
                break
            left[a] -= 1
            b = _first(b_order, left)
            saving = prices[a] + prices[b] - set_price if b >= 0 else 0
            left[a] += 1
            if saving <= 0:
                break
            left[a] -= 1
            left[b] -= 1
            pair = [(a, 1), (b, 1)]
            parts.append((saving, pair))
            used += pair
        if not parts:
            return None
        _give_back(left, used)
        return sum(saving for saving, _ in parts), tuple(parts), used

    return run


Step = tuple[_Rule, Outcome | None]
# A search result: total saving and the order it comes from, each rule with its
# outcome (None where it did not apply at its place in that order).
Plan = tuple[int, tuple[Step, ...]]


class _Search:
    """Best plans for sets of rules (bit sets of ranks) from given pools, remembering
    every rule run and every plan by the part of the pool it depends on."""

    def __init__(self, cart: _Cart, rules: Sequence[_Rule]) -> None:
        self.cart = cart
        self.rules = {rule.bit: rule for rule in rules}
        self._split: dict[int, tuple[list[int], Callable[[Pool], object]]] = {}
        self._plans: dict[tuple[int, object], Plan] = {}
        self._runs: dict[tuple[int, object], Outcome | None] = {}

    def run(self, rule: _Rule, left: Pool) -> Outcome | None:
        key = (rule.bit, rule.state(left))
        try:
            return self._runs[key]
        except KeyError:
            outcome = self._runs[key] = rule.run(left)
            return outcome

    def members(self, subset: int) -> list[_Rule]:
        """The rules in ``subset``, in rank order."""
        found = []
        while subset:
            low = subset & -subset
            found.append(self.rules[low])
            subset ^= low
        return found

    def groups(self, subset: int) -> list[int]:
        """``subset`` split into connected components of "shares an eligible line",
        each a bit set of ranks, in order of their lowest rank."""
        return self._split_of(subset)[0]

    def _split_of(self, subset: int) -> tuple[list[int], Callable[[Pool], object]]:
        known = self._split.get(subset)
        if known is None:
            groups: list[tuple[int, int]] = []  # (rule bits, line mask)
            lines: set[int] = set()
            for rule in self.members(subset):
                bits, mask = rule.bit, rule.mask
                for group in [g for g in groups if g[1] & mask]:
                    groups.remove(group)
                    bits, mask = bits | group[0], mask | group[1]
                groups.append((bits, mask))
                lines.update(rule.lines)
            known = (sorted(bits for bits, _ in groups), _reader(sorted(lines)))
            self._split[subset] = known
        return known

    def exhaustive(self, subset: int, left: Pool) -> Plan:
        """The first order (by rank) of ``subset`` with the largest total saving."""
        if not subset & (subset - 1):  # a single rule: its runs are remembered already
            rule = self.rules[subset]
            outcome = self.run(rule, left)
            return (outcome[0] if outcome is not None else 0), ((rule, outcome),)
        groups, state = self._split_of(subset)
        key = (subset, state(left))
        plan = self._plans.get(key)
        if plan is None:
            if len(groups) > 1:
                plan = _merge([self.exhaustive(g, left) for g in groups])
            else:
                plan = self._each_first(subset, left)
            self._plans[key] = plan
        return plan

    def _each_first(self, subset: int, left: Pool) -> Plan:
        """Each rule of one group first, the best order of the rest after it."""
        best: Plan | None = None
        for rule in self.members(subset):
            outcome = self.run(rule, left)
            saving = outcome[0] if outcome is not None else 0
            rest = subset ^ rule.bit
            tail = self.exhaustive(rest, self.cart.after(left, outcome)) if rest else (0, ())
            # strictly more: on equal savings the earlier order (by rank) stays
            if best is None or saving + tail[0] > best[0]:
                best = (saving + tail[0], ((rule, outcome), *tail[1]))
        assert best is not None
        return best

    def greedy(self, subset: int, left: Pool) -> Plan:
        """Biggest saving next (equal savings: lower rank), until nothing applies."""
        remaining = self.members(subset)
        steps: list[Step] = []
        total = 0
        while remaining:
            tried = [(rule, self.run(rule, left)) for rule in remaining]
            best: Step | None = None
            for rule, outcome in tried:
                if outcome is not None and (best is None or outcome[0] > best[1][0]):
                    best = (rule, outcome)
            if best is None:
                break
            steps.append(best)
            total += best[1][0]
            left = self.cart.after(left, best[1])
            remaining.remove(best[0])
        steps += [(rule, None) for rule in remaining]
        return total, tuple(steps)


def _merge(plans: Sequence[Plan]) -> Plan:
    """Plans of independent groups as one order: the first order (by rank) that keeps
    each group's own order. Every such order gives the same saving, so this is what a
    search over all orders of the union picks."""
    queues = [list(reversed(steps)) for _, steps in plans]
    merged: list[Step] = []
    while queues:
        head = min(queues, key=lambda q: q[-1][0].rank)
        merged.append(head.pop())
        if not head:
            queues.remove(head)
    return sum(saving for saving, _ in plans), tuple(merged)


def choose(promotions: Sequence[ItemPromotion], lines: Sequence[CartLine]) -> list[Application]:
    """The applications giving the customer the largest total saving, in the order
    they are applied."""
    cart = _Cart(lines)
    ordered = sorted(promotions, key=lambda p: (p.priority, p.id))
    rules = [_Rule(promo, rank, cart) for rank, promo in enumerate(ordered)]
    search = _Search(cart, rules)
    live = [rule for rule in rules if search.run(rule, cart.start) is not None]
    if not live:
        return []
    plans = []
    for group in search.groups(sum(rule.bit for rule in live)):
        if group.bit_count() > EXHAUSTIVE_LIMIT:
            plans.append(search.greedy(group, cart.start))
        else:
            plans.append(search.exhaustive(group, cart.start))
    _, steps = _merge(plans)
    return [
        Application(
            rule.promotion,
            tuple((saving, cart.weights(taken)) for saving, taken in outcome[1]),
            cart.counts(outcome[2]),
        )
        for rule, outcome in steps
        if outcome is not None
    ]


def apply_item_promotions(
    promotions: Sequence[ItemPromotion], lines: list[WorkingLine]
) -> list[AppliedPromotion]:
    """Stage 2 on the working lines; returns what each promotion saved."""
    by_key = {w.key: w for w in lines}
    applied = []
    for application in choose(promotions, [w.line for w in lines]):
        promo = application.promotion
        for amount, weights in application.parts:
            targets_ = [by_key[k] for k in sorted(weights)]
            spread(targets_, amount, AdjustmentSource.PROMOTION, promo.id, promo.name, weights)
        applied.append(
            AppliedPromotion(promo.id, promo.name, PromotionStage.ITEM, application.saving)
        )
    return applied

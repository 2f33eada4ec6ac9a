"""Stage 2: item promotions (任選, buy X get Y, A+B sets).

Each unit of merchandise serves at most one promotion. Units are handled as counts
per line (all units of a line share a price), so a quantity of 500 costs no more than
a quantity of 5. Choosing which promotion gets which units is the customer's best
case: the result is the one trying every order of the applicable promotions would
give, the largest total saving winning and equal savings keeping the (priority, id)
order (the first such order, counting orders lexicographically by that ranking).

That search is not done by brute force:

- Each promotion's eligible lines, sorted the way it takes them, are worked out once
  per quote; pool states are plain lists of free units per line, and a promotion walks
  its lines with a cursor instead of searching them from the top for every unit.
- Promotions whose eligible lines do not overlap cannot affect each other, so the
  applicable promotions are split into groups (connected components of "shares an
  eligible line") and each group is searched alone. The same split is made again
  inside the search, whenever the promotions still to place fall apart.
- The search is a depth-first walk over orders: a common prefix is applied once and
  its pool carried down, and the best completion of a (promotions left, pool) state is
  remembered, so orders that reach the same state share the work.
- In groups of four or more, branches that cannot beat the best order found so far
  are cut. A promotion never saves more than a fixed amount per unit it uses up, set
  by the unit's price (its *ceiling*, see ``_ceiling``), so the promotions still to
  place save at most the free units of their lines times the largest ceiling on each
  line. An order only replaces the best one found when it saves strictly more, so a
  branch whose bound merely equals the best is cut too, and ties still go to the
  earlier order.

``EXHAUSTIVE_LIMIT`` applies per group: a group of up to six applicable promotions is
searched exhaustively, a larger one by a greedy pass (biggest saving next). See
docs/pricing.md for why this is exact and what changed against a limit on the count of
all applicable promotions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter, mul, sub

from commerce.money import round_half_up
from commerce.pricing.allocation import WorkingLine, spread
from commerce.pricing.breakdown import AdjustmentSource, AppliedPromotion, PromotionStage
from commerce.pricing.cart import CartLine
from commerce.pricing.rules import AnyNForPrice, BuyXGetY, Combo, ItemPromotion

EXHAUSTIVE_LIMIT = 6
# Branches are cut (see ``_Search.bound``) in groups of at least this many promotions.
# A smaller group has at most six orders and the bounds cost more than they save.
_CUT_FROM = 4
# Outcomes with more entries in ``used`` than this also keep their units as a list by
# line index (see ``_delta``).
_DENSE_FROM = 12

Counts = dict[str, int]
# Units taken from the pool as (line index, units); a line may appear more than once.
Taken = list[tuple[int, int]]
# Free units per line index.
Pool = list[int]
# One promotion applied to a pool: (total saving, ((saving, units priced), ...), every
# unit it used up, the same units as a count per line index or None, see ``_delta``).
# Made at every node of the search, so a plain tuple; an ``Application`` is built for
# the winners only.
Outcome = tuple[int, tuple[tuple[int, Taken], ...], Taken, list[int] | None]
Runner = Callable[[Pool], Outcome | None]
# The free units of some lines, in line order: what a result depends on, so it is the
# key results are remembered by.
State = tuple[int, ...]


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


def _after(left: Pool, outcome: Outcome | None) -> Pool:
    """The pool once ``outcome`` has taken its units (``left`` is not changed)."""
    if outcome is None:
        return left
    delta = outcome[3]
    if delta is not None:
        return list(map(sub, left, delta))
    after = left.copy()
    for i, n in outcome[2]:
        after[i] -= n
    return after


def _delta(left: Pool, used: Taken, after: Pool | None = None) -> list[int] | None:
    """``Outcome``'s units used per line index, for outcomes using many lines: then
    one subtraction of lists (in C) makes the pool after it faster than a loop over
    ``used``. Worked out from the pool after the outcome when the runner has it."""
    if len(used) <= _DENSE_FROM:
        return None
    if after is not None:
        return list(map(sub, left, after))
    delta = [0] * len(left)
    for i, n in used:
        delta[i] += n
    return delta


def _reader(lines: Sequence[int]) -> Callable[[Pool], State]:
    """A fast read of the free units of ``lines`` as a tuple, usable as a key."""
    if not lines:
        return lambda left: ()
    if len(lines) == 1:
        line = lines[0]
        return lambda left: (left[line],)
    return itemgetter(*lines)


class _Rule:
    """One item promotion compiled against the cart.

    ``rank`` is its place in the (priority, id) order, ``mask`` has a bit per eligible
    line (for grouping), ``state`` reads the free units of those lines (all its result
    depends on) and ``run`` applies it to a pool without changing the pool.
    """

    __slots__ = ("promotion", "rank", "bit", "orders", "lines", "mask", "state", "run")

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
        self.orders = orders
        self.lines = sorted({i for order in orders for i in order})
        self.mask = sum(1 << i for i in self.lines)
        self.state = _reader(self.lines)

    def ceiling(self, prices: list[int]) -> list[int]:
        """Per line index, the most one free unit of the line can add to the saving
        (see ``_ceiling``)."""
        return _ceiling(self.promotion, self.orders, prices)


def _ceiling(
    promotion: ItemPromotion, orders: tuple[tuple[int, ...], ...], prices: list[int]
) -> list[int]:
    """Per line index, an upper bound on what one free unit of the line can add to the
    promotion's saving, whatever else is in the pool: the saving of any application
    is at most the sum of these over the units it uses up. Whole numbers, rounded up.

    - Any N for P: a group of q units for P saves its units' prices minus P/q each, so
      at most price - min(P/q) per unit (0 if negative: such a unit only lowers it).
    - A+B set: a pair saves a + b - S = (a - S/2) + (b - S/2).
    - Buy X get Y at p %: only "get" units are discounted, by p % of their price. When
      both sides take from the same lines, each round's Y discounted units are the
      cheapest of its X + Y units, so the round saves at most p % × Y/(X + Y) of the
      price of all its units. The saving is rounded half up once, which the rounded-up
      shares cover (``round_half_up(x, 100) <= ceil(x / 100)``).
    """
    weights = [0] * len(prices)
    if isinstance(promotion, AnyNForPrice):
        cost = min(tier.price // tier.quantity for tier in promotion.tiers)
        for i in orders[0]:
            if prices[i] > cost:
                weights[i] = prices[i] - cost
    elif isinstance(promotion, BuyXGetY):
        buy, get = promotion.buy_quantity, promotion.get_quantity
        if set(orders[0]) == set(orders[1]):
            part, whole = promotion.percent_off * get, 100 * (buy + get)
        else:
            part, whole = promotion.percent_off, 100
        for i in orders[1]:
            weights[i] = -(-prices[i] * part // whole)
    else:
        half = promotion.set_price // 2
        for i in {*orders[0], *orders[1]}:
            if prices[i] > half:
                weights[i] = prices[i] - half
    return weights


def _any_n(promo: AnyNForPrice, order: tuple[int, ...], prices: list[int]) -> Runner:
    """Groups of the priciest free units along ``order``, the best tier each time.

    Every group is taken from the front of what is left along ``order``, so a run only
    moves forward: ``pos`` is the first line not used up and ``spent`` the units of it
    earlier groups took. Each group walks from there once, pricing every tier as the
    walk passes its quantity.
    """
    limit = promo.per_order_limit if promo.repeat else 1
    tiers = [(tier.quantity, tier.price) for tier in promo.tiers]
    last = len(tiers)
    end = len(order)

    def run(left: Pool) -> Outcome | None:
        parts: list[tuple[int, Taken]] = []
        pos = spent = 0
        while limit is None or len(parts) < limit:
            best: Taken | None = None
            best_saving = best_at = best_units = 0
            taken: Taken = []
            got = value = 0
            t = 0
            quantity, set_price = tiers[0]
            j, skip = pos, spent
            while j < end:
                i = order[j]
                n = left[i] - skip
                skip = 0
                if n > 0:
                    price = prices[i]
                    while got + n >= quantity:
                        k = quantity - got
                        saving = value + k * price - set_price
                        # ``>=``: equal savings take the larger tier (tiers are ascending)
                        if saving > 0 and saving >= best_saving:
                            best, best_saving, best_at, best_units = taken + [(i, k)], saving, j, k
                        t += 1
                        if t == last:
                            break
                        quantity, set_price = tiers[t]
                    else:
                        got += n
                        value += n * price
                        taken.append((i, n))
                        j += 1
                        continue
                    break
                j += 1
            if best is None:
                break
            if best_at == pos:
                spent += best_units
            else:
                pos, spent = best_at, best_units
            parts.append((best_saving, best))
        if not parts:
            return None
        used = [unit for _, taken in parts for unit in taken]
        return sum(saving for saving, _ in parts), tuple(parts), used, _delta(left, used)

    return run


def _first_units(order: tuple[int, ...], left: Pool, count: int) -> Taken:
    """The first ``count`` free units along ``order`` (there are at least that many),
    each line once."""
    taken: Taken = []
    for i in order:
        n = left[i]
        if n:
            if n >= count:
                taken.append((i, count))
                return taken
            taken.append((i, n))
            count -= n
    return taken


def _take_along(order: tuple[int, ...], pos: int, work: Pool, need: int, used: Taken
                ) -> tuple[int, int]:
    """Take ``need`` free units out of ``work`` along ``order`` from the cursor ``pos``
    on, adding them to ``used``. Returns what could not be taken (0 when all was) and
    the cursor: the first line that may still have free units."""
    end = len(order)
    while pos < end:
        i = order[pos]
        n = work[i]
        if n:
            if n >= need:
                work[i] = n - need
                used.append((i, need))
                return 0, pos
            work[i] = 0
            used.append((i, n))
            need -= n
        pos += 1
    return need, pos


def _buy_x_get_y(
    promo: BuyXGetY, buy_order: tuple[int, ...], get_order: tuple[int, ...], prices: list[int]
) -> Runner:
    """Rounds of the X priciest "buy" units and the Y cheapest "get" units.

    When both sides take from the same lines, every round that starts with X + Y free
    units is filled, so there are ``units // (X + Y)`` rounds (up to the limit), and
    unless the two sides reach for the same units of a line they simply take the
    first ``rounds × X`` units along the buy order and the first ``rounds × Y`` along
    the get order: that is tried first. Otherwise the rounds are played one by one
    on a copy of the pool; units only leave it, so the first line with free units
    along either order only moves forward and each side keeps a cursor.
    """
    limit = promo.per_order_limit
    buy, get, percent = promo.buy_quantity, promo.get_quantity, promo.percent_off
    units = _reader(buy_order) if set(buy_order) == set(get_order) else None

    def run(left: Pool) -> Outcome | None:
        if units is not None:
            rounds = sum(units(left)) // (buy + get)
            if limit is not None and rounds > limit:
                rounds = limit
            if not rounds:
                return None
            paid = _first_units(buy_order, left, rounds * buy)
            discounted = _first_units(get_order, left, rounds * get)
            taken = dict(paid)
            if all(taken.get(i, 0) + n <= left[i] for i, n in discounted):
                saving = round_half_up(sum(prices[i] * n for i, n in discounted) * percent, 100)
                if not saving:
                    return None
                used = paid + discounted
                return saving, ((saving, discounted),), used, _delta(left, used)
        work = left.copy()
        used: Taken = []
        discounted: Taken = []
        value = rounds = b = g = 0
        while limit is None or rounds < limit:
            mark = len(used)
            need, b = _take_along(buy_order, b, work, buy, used)
            free = len(used)
            if not need:
                need, g = _take_along(get_order, g, work, get, used)
            if need:  # the round cannot be filled: what it took goes back
                for i, n in used[mark:]:
                    work[i] += n
                del used[mark:]
                break
            for i, n in used[free:]:
                discounted.append((i, n))
                value += prices[i] * n
            rounds += 1
        # a percentage is rounded once, over all discounted units
        saving = round_half_up(value * percent, 100)
        if not saving:
            return None
        return saving, ((saving, discounted),), used, _delta(left, used, work)

    return run


def _combo(
    promo: Combo, a_order: tuple[int, ...], b_order: tuple[int, ...], prices: list[int]
) -> Runner:
    """The priciest free A with the priciest free B, while the pair saves something.

    Works on a copy of the pool, with a cursor along each order as in buy X get Y.
    """
    limit = promo.per_order_limit
    set_price = promo.set_price
    a_end, b_end = len(a_order), len(b_order)

    def run(left: Pool) -> Outcome | None:
        work = left.copy()
        parts: list[tuple[int, Taken]] = []
        used: Taken = []
        x = y = 0
        while limit is None or len(parts) < limit:
            while x < a_end and not work[a_order[x]]:
                x += 1
            if x == a_end:
                break
            a = a_order[x]
            work[a] -= 1
            while y < b_end and not work[b_order[y]]:
                y += 1
            saving = prices[a] + prices[b_order[y]] - set_price if y < b_end else 0
            if saving <= 0:
                work[a] += 1
                break
            b = b_order[y]
            work[b] -= 1
            pair = [(a, 1), (b, 1)]
            parts.append((saving, pair))
            used += pair
        if not parts:
            return None
        return sum(saving for saving, _ in parts), tuple(parts), used, _delta(left, used, work)

    return run


Step = tuple[_Rule, Outcome | None]
# A search result: total saving and the order it comes from, each rule with its
# outcome (None where it did not apply at its place in that order).
Plan = tuple[int, tuple[Step, ...]]

_UNKNOWN = object()


class _Lines:
    """Some lines of the cart: ``state`` reads their free units, and ``ceiling`` (made
    when first needed) is, for each of them, the largest ceiling of a rule of the
    group being searched (see ``_Search.ceiling``)."""

    __slots__ = ("lines", "state", "ceiling")

    def __init__(self, lines: list[int]) -> None:
        self.lines = lines
        self.state = _reader(lines)
        self.ceiling: State | None = None


class _Subset:
    """What the search needs about one set of rules, worked out once per quote: its
    rules in rank order, the lines they cover and (when first asked) the set split
    into connected components, bit sets of ranks in order of their lowest rank."""

    __slots__ = ("members", "lines", "groups")

    def __init__(self, members: list[_Rule], lines: _Lines) -> None:
        self.members = members
        self.lines = lines
        self.groups: list[int] | None = None


class _Search:
    """Best plans for sets of rules (bit sets of ranks) from given pools, remembering
    every rule run and every plan by the part of the pool it depends on.

    ``best(bits, left, floor)`` is exact when the best saving is above ``floor`` and
    may return None when it is not. A caller passes what a branch must save to beat
    its best order so far, so None means "not better", which is all the full search
    would have used the branch for. A branch is skipped only when its bound is no
    more than the best found before it (or ``floor``), so it could not have replaced
    that one, and a plan returned above ``floor`` is the one the full search finds.
    A pool is remembered with its plan, or else with the highest saving it is known
    not to exceed (``_bounds``). ``_cut`` says whether bounds are worked out for the
    group being searched (``_CUT_FROM``).
    """

    def __init__(self, cart: _Cart, rules: Sequence[_Rule]) -> None:
        self.cart = cart
        self.rules = {rule.bit: rule for rule in rules}
        self._subsets: dict[int, _Subset] = {}
        self._lines: dict[int, _Lines] = {}
        self._group: list[_Rule] = []
        self._ceiling: list[int] | None = None
        self._cut = False
        self._plans: dict[tuple[int, State], Plan] = {}
        self._bounds: dict[tuple[int, State], int] = {}
        self._runs: dict[tuple[int, State], Outcome | None] = {}

    def run(self, rule: _Rule, left: Pool) -> Outcome | None:
        key = (rule.bit, rule.state(left))
        try:
            return self._runs[key]
        except KeyError:
            outcome = self._runs[key] = rule.run(left)
            return outcome

    def subset(self, bits: int) -> _Subset:
        known = self._subsets.get(bits)
        if known is None:
            members = []
            mask = 0
            rest = bits
            while rest:
                low = rest & -rest
                rest ^= low
                rule = self.rules[low]
                members.append(rule)
                mask |= rule.mask
            lines = self._lines.get(mask)
            if lines is None:
                covered = sorted({i for rule in members for i in rule.lines})
                lines = self._lines[mask] = _Lines(covered)
            known = self._subsets[bits] = _Subset(members, lines)
        return known

    def groups(self, bits: int) -> list[int]:
        """``bits`` split into connected components of "shares an eligible line",
        each a bit set of ranks, in order of their lowest rank."""
        subset = self.subset(bits)
        if subset.groups is None:
            groups: list[tuple[int, int]] = []  # (rule bits, line mask)
            for rule in subset.members:
                bits, mask = rule.bit, rule.mask
                for group in [g for g in groups if g[1] & mask]:
                    groups.remove(group)
                    bits, mask = bits | group[0], mask | group[1]
                groups.append((bits, mask))
            subset.groups = sorted(bits for bits, _ in groups)
        return subset.groups

    def bound(self, bits: int, state: State) -> int:
        """The most the rules of ``bits`` can save together, given the free units of
        their lines (their ``_Lines.state``): each unit at most the line's ceiling."""
        return sum(map(mul, state, self.ceiling(self.subset(bits))))

    def ceiling(self, subset: _Subset) -> State:
        """For each line of ``subset``, the largest ceiling a rule of the group being
        searched has for it: a looser bound than the largest in ``subset`` alone, but
        one list per group instead of one per set of rules, and it cuts about as many
        branches. (The lines of one group are covered by no rule of another.)"""
        lines = subset.lines
        if lines.ceiling is None:
            if self._ceiling is None:
                ceilings = [rule.ceiling(self.cart.prices) for rule in self._group]
                self._ceiling = list(map(max, *ceilings)) if len(ceilings) > 1 else ceilings[0]
            lines.ceiling = lines.state(self._ceiling)
        return lines.ceiling

    def exhaustive(self, bits: int, left: Pool) -> Plan:
        """The first order (by rank) of ``bits`` with the largest total saving."""
        self._cut = bits.bit_count() >= _CUT_FROM
        self._group, self._ceiling = self.subset(bits).members, None
        # The greedy pass is one of the orders, so the best saves at least as much;
        # starting just below it cuts the first branches too.
        floor = self.greedy(bits, left)[0] - 1 if self._cut else -1
        plan = self.best(bits, left, floor)
        assert plan is not None
        return plan

    def best(self, bits: int, left: Pool, floor: int) -> Plan | None:
        """``exhaustive`` when its saving is above ``floor``; otherwise the same or
        None. A saving is never negative, so a negative floor asks for the plan."""
        if not bits & (bits - 1):  # a single rule: its runs are remembered already
            rule = self.rules[bits]
            state = rule.state(left)
            outcome = self._runs.get((bits, state), _UNKNOWN)
            if outcome is _UNKNOWN:
                if self._cut and floor >= 0 and self.bound(bits, state) <= floor:
                    return None
                outcome = self._runs[bits, state] = rule.run(left)
            return (outcome[0] if outcome is not None else 0), ((rule, outcome),)
        subset = self.subset(bits)
        state = subset.lines.state(left)
        key = (bits, state)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        bound = self._bounds.get(key)
        if bound is None and self._cut and floor >= 0:
            bound = self.bound(bits, state)
        if bound is not None and bound <= floor:
            self._bounds[key] = bound
            return None
        groups = self.groups(bits)
        if len(groups) > 1:
            plan = self._apart(groups, left, floor)
        else:
            plan = self._each_first(bits, subset, left, floor, bound)
        if plan is None:
            self._bounds[key] = floor
        else:
            self._plans[key] = plan
        return plan

    def _apart(self, groups: list[int], left: Pool, floor: int) -> Plan | None:
        """Independent groups: the sum of their best plans, or None if that sum cannot
        be above ``floor``."""
        if floor < 0 or not self._cut:
            plans = [self.best(group, left, -1) for group in groups]
            return _merge([plan for plan in plans if plan is not None])
        ceilings = [self.bound(g, self.subset(g).lines.state(left)) for g in groups]
        others = sum(ceilings)
        plans = []
        for group, ceiling in zip(groups, ceilings, strict=True):
            others -= ceiling
            plan = self.best(group, left, floor - others)
            if plan is None:
                return None
            floor -= plan[0]
            plans.append(plan)
        return _merge(plans)

    def _each_first(
        self, bits: int, subset: _Subset, left: Pool, floor: int, bound: int | None
    ) -> Plan | None:
        """Each rule of one group first, the best order of the rest after it."""
        best: Plan | None = None
        bar = floor
        for rule in subset.members:
            if bound is not None and bar >= bound:
                break
            outcome = self.run(rule, left)
            saving = outcome[0] if outcome is not None else 0
            rest = bits ^ rule.bit
            tail = self.best(rest, _after(left, outcome), bar - saving)
            # strictly more: on equal savings the earlier order (by rank) stays
            if tail is not None and saving + tail[0] > bar:
                best = (saving + tail[0], ((rule, outcome), *tail[1]))
                bar = best[0]
        return best

    def greedy(self, bits: int, left: Pool) -> Plan:
        """Biggest saving next (equal savings: lower rank), until nothing applies."""
        remaining = list(self.subset(bits).members)
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
            left = _after(left, best[1])
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
            keys = sorted(weights)
            spread(
                [by_key[k] for k in keys],
                amount,
                AdjustmentSource.PROMOTION,
                promo.id,
                promo.name,
                [weights[k] for k in keys],
            )
        applied.append(
            AppliedPromotion(promo.id, promo.name, PromotionStage.ITEM, application.saving)
        )
    return applied

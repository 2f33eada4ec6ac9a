"""Stage 2: item promotions (任選, buy X get Y, A+B sets).

Each unit of merchandise serves at most one promotion. Units are handled as counts
per line (all units of a line share a price), so a quantity of 500 costs no more than
a quantity of 5. Choosing which promotion gets which units is the customer's best
case: every order of the applicable promotions is tried and the largest total saving
wins; equal savings keep the (priority, id) order. Beyond ``EXHAUSTIVE_LIMIT``
applicable promotions, a greedy pass (biggest saving next) stands in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import permutations

from commerce.money import round_half_up
from commerce.pricing.allocation import WorkingLine, spread, targets
from commerce.pricing.breakdown import AdjustmentSource, AppliedPromotion, PromotionStage
from commerce.pricing.cart import CartLine
from commerce.pricing.rules import AnyNForPrice, BuyXGetY, Combo, ItemPromotion

EXHAUSTIVE_LIMIT = 6

Counts = dict[str, int]


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


class _Pool:
    """Units still free for promotions, with each line's unit price and SKU order."""

    def __init__(self, lines: Sequence[CartLine], left: Counts) -> None:
        self.lines = {line.key: line for line in lines}
        self.left = left

    def order(
        self, skus: Sequence[str], categories: Sequence[str], *, priciest_first: bool
    ) -> list[str]:
        """Keys of lines with free units the rule covers; equal prices in SKU order."""
        sign = -1 if priciest_first else 1
        found = [k for k, n in self.left.items() if n and targets(self.lines[k], skus, categories)]
        return sorted(found, key=lambda k: (sign * self.lines[k].unit_price, k))

    def take(self, order: Iterable[str], count: int, taken: Counts) -> Counts | None:
        """The first ``count`` units along ``order`` not in ``taken``, or None."""
        chosen: Counts = {}
        for key in order:
            n = min(self.left[key] - taken.get(key, 0) - chosen.get(key, 0), count)
            if n > 0:
                chosen[key] = chosen.get(key, 0) + n
                count -= n
            if count == 0:
                return chosen
        return None

    def value(self, counts: Counts) -> int:
        return sum(self.lines[k].unit_price * n for k, n in counts.items())

    def weights(self, counts: Counts) -> Counts:
        return {k: self.lines[k].unit_price * n for k, n in counts.items()}

    def without(self, used: Counts) -> _Pool:
        return _Pool(
            list(self.lines.values()), {k: n - used.get(k, 0) for k, n in self.left.items()}
        )


def _add(into: Counts, more: Counts) -> None:
    for key, n in more.items():
        into[key] = into.get(key, 0) + n


def _room(promotion: ItemPromotion, done: int) -> bool:
    return promotion.per_order_limit is None or done < promotion.per_order_limit


def _any_n(promo: AnyNForPrice, pool: _Pool) -> Application | None:
    order = pool.order(promo.skus, promo.categories, priciest_first=True)
    used: Counts = {}
    parts: list[tuple[int, Counts]] = []
    while _room(promo, len(parts)) and (promo.repeat or not parts):
        best: tuple[int, Counts] | None = None
        for tier in promo.tiers:
            chosen = pool.take(order, tier.quantity, used)
            if chosen is None:
                break
            saving = pool.value(chosen) - tier.price
            if saving > 0 and (best is None or saving >= best[0]):
                best = (saving, chosen)
        if best is None:
            break
        _add(used, best[1])
        parts.append((best[0], pool.weights(best[1])))
    return Application(promo, tuple(parts), used) if parts else None


def _buy_x_get_y(promo: BuyXGetY, pool: _Pool) -> Application | None:
    buy_order = pool.order(promo.skus, promo.categories, priciest_first=True)
    get_skus, get_categories = promo.get_skus, promo.get_categories
    if not get_skus and not get_categories:
        get_skus, get_categories = promo.skus, promo.categories
    get_order = pool.order(get_skus, get_categories, priciest_first=False)
    used: Counts = {}
    discounted: Counts = {}
    rounds = 0
    while _room(promo, rounds):
        paid = pool.take(buy_order, promo.buy_quantity, used)
        if paid is None:
            break
        free = pool.take(get_order, promo.get_quantity, _sum(used, paid))
        if free is None:
            break
        _add(used, paid)
        _add(used, free)
        _add(discounted, free)
        rounds += 1
    saving = round_half_up(pool.value(discounted) * promo.percent_off, 100)
    if not saving:
        return None
    return Application(promo, ((saving, pool.weights(discounted)),), used)


def _sum(a: Counts, b: Counts) -> Counts:
    total = dict(a)
    _add(total, b)
    return total


def _combo(promo: Combo, pool: _Pool) -> Application | None:
    a_order = pool.order(promo.a_skus, promo.a_categories, priciest_first=True)
    b_order = pool.order(promo.b_skus, promo.b_categories, priciest_first=True)
    used: Counts = {}
    parts: list[tuple[int, Counts]] = []
    while _room(promo, len(parts)):
        a = pool.take(a_order, 1, used)
        b = pool.take(b_order, 1, _sum(used, a)) if a is not None else None
        if a is None or b is None:
            break
        pair = _sum(a, b)
        saving = pool.value(pair) - promo.set_price
        if saving <= 0:
            break
        _add(used, pair)
        parts.append((saving, pool.weights(pair)))
    return Application(promo, tuple(parts), used) if parts else None


def _apply_one(promo: ItemPromotion, pool: _Pool) -> Application | None:
    if isinstance(promo, AnyNForPrice):
        return _any_n(promo, pool)
    if isinstance(promo, BuyXGetY):
        return _buy_x_get_y(promo, pool)
    return _combo(promo, pool)


def _run(order: Sequence[ItemPromotion], pool: _Pool) -> list[Application]:
    done = []
    for promo in order:
        applied = _apply_one(promo, pool)
        if applied is not None:
            done.append(applied)
            pool = pool.without(applied.used)
    return done


def _greedy(promotions: list[ItemPromotion], pool: _Pool) -> list[Application]:
    done: list[Application] = []
    remaining = list(promotions)
    while remaining:
        tried = [(p, _apply_one(p, pool)) for p in remaining]
        best = max(tried, key=lambda t: t[1].saving if t[1] else 0)
        if best[1] is None:
            break
        done.append(best[1])
        pool = pool.without(best[1].used)
        remaining.remove(best[0])
    return done


def choose(promotions: Sequence[ItemPromotion], lines: Sequence[CartLine]) -> list[Application]:
    """The applications giving the customer the largest total saving."""
    pool = _Pool(lines, {ln.key: ln.quantity for ln in lines if not ln.is_gift})
    ordered = sorted(promotions, key=lambda p: (p.priority, p.id))
    live = [p for p in ordered if _apply_one(p, pool) is not None]
    if len(live) > EXHAUSTIVE_LIMIT:
        return _greedy(live, pool)
    best: list[Application] = []
    for order in permutations(live):
        found = _run(order, pool)
        if sum(a.saving for a in found) > sum(a.saving for a in best):
            best = found
    return best


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

"""Pricing figure: one quote of a 50-line cart with 10 active promotions, a coupon
and store credit, timed with ``timeit`` in this process.

Three rule sets are timed, each with ten promotions:

- ``exhaustive``: six item promotions over different categories plus four
  order-level ones. The engine splits item promotions into groups that share no
  line and searches each group by trying every order (here groups of 2, 3 and 1).
- ``greedy``: eight item promotions plus two order-level ones. The name is
  historical: before the search was split into groups, more than six applicable
  promotions took the greedy pass; now they fall into groups of 5 and 3 and are
  searched exhaustively too.
- ``one_group``: the adversarial case. Six item promotions that all reach the
  same lines (four of them cover every line), so no split helps and every order
  of the six must be tried, plus four order-level ones.
"""

from __future__ import annotations

import statistics
import timeit
from datetime import datetime, timezone

from commerce.delivery import DeliveryMethod
from commerce.pricing import CartLine, CouponRequest, PricingRequest, PricingRules, price

NOW = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)
CATEGORIES = ("茶品", "茶具", "零食", "禮盒", "器皿")


def cart(lines: int = 50) -> tuple[CartLine, ...]:
    """``lines`` distinct SKUs over five categories, prices 120-1,090, 1-3 units each."""
    return tuple(
        CartLine(sku=f"SKU-{n:03d}", name=f"商品 {n}", unit_price=120 + (n * 37) % 980,
                 quantity=1 + n % 3, categories=(CATEGORIES[n % len(CATEGORIES)],))
        for n in range(lines)
    )


def _item_promotions(count: int) -> list[dict]:
    shapes = [
        {"type": "any_n_for_price", "categories": ["茶品"],
         "tiers": [{"quantity": 3, "price": 999}, {"quantity": 5, "price": 1599}], "repeat": True},
        {"type": "combo", "a_categories": ["茶品"], "b_categories": ["茶具"], "set_price": 799},
        {"type": "buy_x_get_y", "categories": ["零食"], "buy_quantity": 2, "get_quantity": 1},
        {"type": "any_n_for_price", "categories": ["禮盒"],
         "tiers": [{"quantity": 2, "price": 1200}], "repeat": True},
        {"type": "buy_x_get_y", "categories": ["器皿"], "buy_quantity": 3, "get_quantity": 1,
         "percent_off": 50},
        {"type": "combo", "a_categories": ["零食"], "b_categories": ["器皿"], "set_price": 500},
        {"type": "any_n_for_price", "categories": ["茶具"],
         "tiers": [{"quantity": 4, "price": 1800}]},
        {"type": "buy_x_get_y", "categories": ["茶品", "禮盒"], "buy_quantity": 4,
         "get_quantity": 1, "percent_off": 30},
    ]
    return [{"id": f"item-{n}", "name": f"活動 {n}", **shapes[n]} for n in range(count)]


def _order_promotions(count: int) -> list[dict]:
    shapes = [
        {"type": "spend_threshold", "min_spend": 3000, "amount_off": 300},
        {"type": "spend_threshold", "min_spend": 1000, "percent_off": 5},
        {"type": "free_shipping_over", "min_spend": 1500},
        {"type": "spend_threshold", "min_spend": 1000, "amount_off": 100, "repeat": True,
         "per_order_limit": 5},
    ]
    return [{"id": f"order-{n}", "name": f"滿額 {n}", **shapes[n]} for n in range(count)]


def rules(item_promotions: int) -> PricingRules:
    promotions = _item_promotions(item_promotions) + _order_promotions(10 - item_promotions)
    return PricingRules.model_validate({
        "promotions": promotions,
        "coupons": [{"code": "TEA10", "name": "茶品 9 折", "kind": "percent", "value": 10,
                     "categories": ["茶品"], "min_spend": 500}],
        "store_credit": {"enabled": True, "min_order_amount": 500, "max_per_order": 300,
                         "max_percent": 20},
    })


def request() -> PricingRequest:
    delivery = DeliveryMethod(code="711", kind="cvs_711_c2c", name="7-11 取貨", fee=60,
                              free_over=None)
    return PricingRequest(lines=cart(), coupon=CouponRequest("tea10"), credit_balance=500,
                          delivery=delivery)


def time_quote(rule_set: PricingRules, *, repeats: int = 7, budget_s: float = 1.0) -> dict:
    """Median, min and max milliseconds per quote over ``repeats`` timed batches."""
    req = request()
    breakdown = price(req, rule_set, NOW)
    per_batch = max(1, int(budget_s / repeats / max(_once(req, rule_set), 1e-6)))
    samples = [t / per_batch * 1000 for t in timeit.repeat(
        lambda: price(req, rule_set, NOW), repeat=repeats, number=per_batch)]
    return {"median_ms": statistics.median(samples), "min_ms": min(samples),
            "max_ms": max(samples), "quotes_per_batch": per_batch, "repeats": repeats,
            "total": breakdown.total, "promotions_applied": len(breakdown.promotions),
            "coupon_applied": bool(breakdown.coupon and breakdown.coupon.applied),
            "credit_used": breakdown.credit.used}


def _once(req: PricingRequest, rule_set: PricingRules) -> float:
    return min(timeit.repeat(lambda: price(req, rule_set, NOW), repeat=3, number=1))


def one_group_rules() -> PricingRules:
    """Six item promotions that overlap on every line, and four order-level ones."""
    everything = list(CATEGORIES)
    shapes = [
        {"type": "any_n_for_price", "categories": everything,
         "tiers": [{"quantity": 3, "price": 999}, {"quantity": 5, "price": 1599}], "repeat": True},
        {"type": "buy_x_get_y", "categories": everything, "buy_quantity": 2, "get_quantity": 1},
        {"type": "buy_x_get_y", "categories": everything, "buy_quantity": 3, "get_quantity": 1,
         "percent_off": 50},
        {"type": "any_n_for_price", "categories": everything,
         "tiers": [{"quantity": 4, "price": 1800}]},
        {"type": "combo", "a_categories": ["茶品"], "b_categories": ["茶具"], "set_price": 799},
        {"type": "combo", "a_categories": ["零食"], "b_categories": ["器皿"], "set_price": 500},
    ]
    promotions = [{"id": f"item-{n}", "name": f"活動 {n}", **shape}
                  for n, shape in enumerate(shapes)] + _order_promotions(4)
    return PricingRules.model_validate({
        "promotions": promotions,
        "coupons": rules(6).model_dump(mode="json")["coupons"],
        "store_credit": {"enabled": True, "min_order_amount": 500, "max_per_order": 300,
                         "max_percent": 20},
    })


def run() -> dict:
    return {"exhaustive": time_quote(rules(6)), "greedy": time_quote(rules(8)),
            "one_group": time_quote(one_group_rules())}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))

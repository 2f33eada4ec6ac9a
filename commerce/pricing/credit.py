"""Stage 7: store credit (購物金), 1 point = NT$1.

Credit pays for part of the order; it is not a discount of any product, so it comes
after shipping and is shared over the lines (and shipping, when shipping counts
towards the base) only to say what each invoice line was paid with. Spending the
soonest-expiring credit first is the ledger's job; the engine sees one balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from commerce.errors import ValidationError
from commerce.money import allocate
from commerce.pricing.allocation import WorkingLine
from commerce.pricing.breakdown import CreditResult
from commerce.pricing.rules import StoreCreditPolicy

SHIPPING_KEY = "~shipping"


@dataclass(frozen=True)
class CreditOutcome:
    result: CreditResult
    shares: dict[str, int]


def _limits(policy: StoreCreditPolicy, balance: int, base: int) -> list[tuple[str, int, str]]:
    found = [("balance", balance, f"購物金餘額為 NT${balance:,}")]
    if policy.max_per_order is not None:
        found.append(
            ("max_per_order", policy.max_per_order, f"每筆訂單最多折抵 NT${policy.max_per_order:,}")
        )
    if policy.max_percent is not None:
        found.append(
            (
                "max_percent",
                base * policy.max_percent // 100,
                f"購物金最多折抵訂單金額的 {policy.max_percent}%",
            )
        )
    found.append(("order_total", base, "購物金不能超過訂單金額"))
    return found


def apply_credit(
    policy: StoreCreditPolicy,
    balance: int,
    requested: int | None,
    *,
    by_merchant: bool,
    lines: Sequence[WorkingLine],
    shipping: int,
) -> CreditOutcome:
    """How much credit this order uses, and each line's (and shipping's) share."""
    if requested is not None and by_merchant and not policy.merchant_may_choose:
        raise ValidationError("購物金折抵金額由顧客自行選擇", field="credit")
    merchandise = [w for w in lines if not w.line.is_gift]
    base = sum(w.amount for w in merchandise)
    if policy.include_shipping_in_base:
        base += shipping
    # Only explain a refusal to a buyer who has credit or asked to use some.
    wanted = requested != 0 and (balance > 0 or requested is not None)
    if not policy.enabled:
        refusal = ("disabled", "本店未開放使用購物金") if wanted else (None, None)
        return CreditOutcome(CreditResult(balance, requested, 0, 0, *refusal), {})
    if base < policy.min_order_amount:
        message = f"訂單滿 NT${policy.min_order_amount:,} 才能使用購物金"
        refusal = ("below_minimum", message) if wanted else (None, None)
        return CreditOutcome(CreditResult(balance, requested, 0, 0, *refusal), {})
    code, cap, message = min(_limits(policy, balance, base), key=lambda limit: limit[1])
    used = cap if requested is None else min(requested, cap)
    refused = requested is not None and requested > cap
    result = CreditResult(
        balance, requested, cap, used, code if refused else None, message if refused else None
    )
    weights = {w.key: w.amount for w in merchandise}
    if policy.include_shipping_in_base:
        weights[SHIPPING_KEY] = shipping
    keys = sorted(weights)
    shares = allocate(used, [weights[k] for k in keys], keys)
    return CreditOutcome(result, dict(zip(keys, shares, strict=True)))

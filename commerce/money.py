"""Integer money: half-up rounding, exact allocation and display (commerce-tw.md §2, §5).

Amounts are integers in the currency's minor unit; for TWD that is the whole dollar,
since shops and invoices never use cents even though ISO 4217 gives TWD two decimals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, get_currency_precision

# Where practice differs from ISO/CLDR: TWD is quoted in whole dollars.
_MINOR_DIGITS = {"TWD": 0}


def round_half_up(a: int, b: int) -> int:
    """``a / b`` rounded half up, in integers.

    Python's ``round`` rounds half to even, which is not how tax is rounded; and going
    through floats would lose cents on large amounts.
    """
    if a < 0 or b <= 0:
        raise ValueError(f"round_half_up needs a >= 0 and b > 0, got {a}, {b}")
    return (2 * a + b) // (2 * b)


def allocate(amount: int, weights: Sequence[int], keys: Sequence[str]) -> list[int]:
    """Split ``amount`` in proportion to ``weights`` so the parts sum to it exactly.

    Each part gets the floor of its exact share; the units left over go one each to
    the largest remainders. Ties go to the larger weight, then to the smaller key, so
    the result depends on the keys (SKUs) and never on the order of the input.
    """
    count = len(weights)
    if count != len(keys):
        raise ValueError("allocate needs one key per weight")
    if amount < 0 or (count and min(weights) < 0):
        raise ValueError("allocate needs a non-negative amount and weights")
    total = sum(weights)
    if total == 0:
        if amount:
            raise ValueError(f"cannot allocate {amount} over zero weights")
        return [0] * count
    parts = [amount * w // total for w in weights]
    leftover = amount - sum(parts)
    if leftover:  # fewer than ``count``; pricing spreads most discounts over 1-5 lines

        def rank(i: int) -> tuple[int, int, str]:
            return -(amount * weights[i] % total), -weights[i], keys[i]

        if leftover == 1:
            parts[min(range(count), key=rank)] += 1
        else:
            for i in sorted(range(count), key=rank)[:leftover]:
                parts[i] += 1
    return parts


def minor_digits(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit."""
    return _MINOR_DIGITS.get(currency, get_currency_precision(currency))


def format_money(amount: int, currency: str = "TWD", locale: str = "zh_TW") -> str:
    """Show an amount the way the locale writes it: ``$1,234`` for TWD in zh_TW.

    CLDR's pattern carries two decimals, so for whole-unit currencies the fraction is
    removed from the locale's own pattern rather than hard-coding a symbol position.
    """
    digits = minor_digits(currency)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    if digits == 0:
        pattern = re.sub(r"\.0+", "", pattern)
    return format_currency(
        Decimal(amount).scaleb(-digits),
        currency,
        format=pattern,
        locale=locale,
        currency_digits=False,
    )

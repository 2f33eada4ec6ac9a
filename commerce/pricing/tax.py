"""Stage 8 tax (commerce-tw.md §2).

Inclusive (B2C, the legal default): the total already contains the tax; we report the
contained amount, the same split a company invoice prints. Exclusive (wholesale): tax
is added on merchandise + shipping − credit, rounded half up once for the order.
"""

from __future__ import annotations

from commerce.einvoice import company_tax_split
from commerce.money import round_half_up
from commerce.pricing.breakdown import TaxResult
from commerce.pricing.rules import TaxMode, TaxPolicy


def apply_tax(policy: TaxPolicy, net: int) -> tuple[TaxResult, int]:
    """The tax line and the total the buyer pays for a pre-tax-stage amount ``net``."""
    if policy.mode is TaxMode.INCLUSIVE:
        _, tax = company_tax_split(net, policy.rate_percent)
        total = net
    else:
        tax = round_half_up(net * policy.rate_percent, 100)
        total = net + tax
    return TaxResult(policy.mode, policy.rate_percent, tax, policy.show_tax_line), total

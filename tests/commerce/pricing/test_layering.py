"""The pricing domain stays pure: importing it pulls in no web, chat or storage code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FORBIDDEN = [
    "flask",
    "redis",
    "linebot",
    "pymessenger",
    "transitions",
    "sqlalchemy",
    "web",
    "bot",
    "flows",
]


def test_pricing_and_checkout_modules_import_no_outer_layer():
    code = (
        "import sys\n"
        "import commerce.money, commerce.delivery, commerce.payment, commerce.einvoice\n"
        "import commerce.pricing\n"
        f"print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    ).stdout
    assert out.strip() == "[]"

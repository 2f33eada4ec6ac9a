"""Medians with min-max, ratios between contenders, the printed table and the JSON."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path


def spread(values: Sequence[float]) -> dict:
    """Median, min and max of repeated measurements, with every run kept."""
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def per_item(before: dict[str, float], after: dict[str, float], items: int, *,
             scale: float = 1.0, digits: int = 2) -> dict:
    """What each process group used per request (or turn), from two snapshots of a
    running count (context switches; CPU seconds through ``cpu_per_item``)."""
    if not items:
        return {}
    return {name: round((after[name] - before.get(name, 0.0)) * scale / items, digits)
            for name in after}


def cpu_per_item(before: dict[str, float], after: dict[str, float], items: int) -> dict:
    """CPU milliseconds per request (or turn) of each process group."""
    return per_item(before, after, items, scale=1000, digits=3)


def median_by_group(runs: Sequence[dict], key: str) -> dict[str, float]:
    """The median over ``runs`` of each process group's ``run[key][group]``."""
    names = runs[0][key].keys()
    return {n: round(statistics.median(r[key][n] for r in runs), 3) for n in names}


def ratio(numerator: dict, denominator: dict) -> float:
    return numerator["median"] / denominator["median"] if denominator["median"] else 0.0


def fmt(figure: dict, unit: str = "", digits: int = 0) -> str:
    form = f"{{:,.{digits}f}}"
    return (f"{form.format(figure['median'])}{unit} "
            f"({form.format(figure['min'])}-{form.format(figure['max'])})")


def verdict(value: float, target: float, *, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    if higher_is_better:
        return f"missed by {100 * (1 - value / target):.0f} %"
    return f"missed by {100 * (value / target - 1):.0f} %"


def write_json(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")


def print_table(title: str, rows: list[tuple[str, ...]]) -> None:
    print(f"\n{title}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))

"""Integer rounding, exact allocation and money display."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce.money import allocate, format_money, minor_digits, round_half_up


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (0, 7, 0),
        (5, 10, 1),
        (4, 10, 0),
        (15, 10, 2),
        (25, 10, 3),
        (105000, 105, 1000),
        (1000 * 100, 105, 952),
        (1, 2, 1),
        (1, 3, 0),
        (2, 3, 1),
    ],
)
def test_round_half_up(a, b, expected):
    assert round_half_up(a, b) == expected


@pytest.mark.parametrize(("a", "b"), [(-1, 2), (1, 0), (1, -3)])
def test_round_half_up_refuses_out_of_domain(a, b):
    with pytest.raises(ValueError):
        round_half_up(a, b)


@pytest.mark.parametrize(
    ("amount", "weights", "keys", "expected"),
    [
        (100, [333, 333, 334], ["a", "b", "c"], [33, 33, 34]),
        (10, [100, 100, 100], ["a", "b", "c"], [4, 3, 3]),
        (10, [100, 100, 100], ["c", "b", "a"], [3, 3, 4]),
        (100, [980, 350, 120], ["A", "B", "C"], [68, 24, 8]),
        (201, [450, 400, 350], ["a", "b", "c"], [75, 67, 59]),
        (2, [1, 3, 3], ["a", "b", "c"], [0, 1, 1]),
        (1, [2, 3, 3], ["z", "y", "x"], [0, 0, 1]),
        (0, [5, 7], ["a", "b"], [0, 0]),
        (0, [0, 0], ["a", "b"], [0, 0]),
        (7, [0, 7], ["a", "b"], [0, 7]),
    ],
)
def test_allocate_examples(amount, weights, keys, expected):
    assert allocate(amount, weights, keys) == expected


@pytest.mark.parametrize(
    ("amount", "weights", "keys"),
    [(-1, [1], ["a"]), (1, [-1, 2], ["a", "b"]), (1, [1], ["a", "b"]), (3, [0, 0], ["a", "b"])],
)
def test_allocate_refuses_bad_input(amount, weights, keys):
    with pytest.raises(ValueError):
        allocate(amount, weights, keys)


weights_and_keys = st.lists(st.integers(0, 10_000), min_size=1, max_size=8).map(
    lambda ws: (ws, [f"sku{i:02d}" for i in range(len(ws))])
)


@settings(max_examples=200, deadline=None)
@given(weights_and_keys, st.integers(0, 10_000), st.randoms())
def test_allocate_sums_exactly_stays_within_weights_and_ignores_order(wk, share, rnd):
    weights, keys = wk
    total = sum(weights)
    amount = share * total // 10_000
    parts = allocate(amount, weights, keys)
    assert sum(parts) == amount
    assert all(0 <= p <= w for p, w in zip(parts, weights, strict=True))
    order = list(range(len(weights)))
    rnd.shuffle(order)
    shuffled = allocate(amount, [weights[i] for i in order], [keys[i] for i in order])
    assert {keys[i]: p for i, p in zip(order, shuffled, strict=True)} == dict(
        zip(keys, parts, strict=True)
    )


@settings(max_examples=150, deadline=None)
@given(weights_and_keys, st.integers(0, 10_000))
def test_allocate_is_within_one_of_the_exact_share(wk, amount):
    weights, keys = wk
    total = sum(weights)
    if total == 0:
        return
    for part, w in zip(allocate(amount, weights, keys), weights, strict=True):
        assert abs(part * total - amount * w) < total


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (1234, "TWD", "zh_TW", "$1,234"),
        (0, "TWD", "zh_TW", "$0"),
        (1234567, "TWD", "zh_TW", "$1,234,567"),
        (-50, "TWD", "zh_TW", "-$50"),
        (1234, "TWD", "en", "NT$1,234"),
        (1234, "USD", "en_US", "$12.34"),
    ],
)
def test_format_money(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_twd_is_whole_dollars_despite_iso():
    assert (minor_digits("TWD"), minor_digits("USD"), minor_digits("JPY")) == (0, 2, 0)

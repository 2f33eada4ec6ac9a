"""Measuring, truncating and splitting chat text against platform limits.

LINE counts text in UTF-16 code units (an emoji outside the BMP counts 2). Meta
does not say how Messenger counts, so we measure Messenger text the same way: it is
never shorter than the code point count, so a text that fits here fits there.
Python strings index code points, so every cut made here falls on a code point
boundary and can never split a surrogate pair.
"""

from __future__ import annotations

ELLIPSIS = "…"

# Where a long text may be broken, best first. Taiwanese text rarely has spaces,
# so after line breaks and spaces we accept the end of a CJK sentence.
_BREAKS: tuple[tuple[str, bool], ...] = (
    ("\n", True),
    (" \u3000\t", True),
    ("。！？!?", False),
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit LINE's limits are written in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def prefix_within(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that is at most ``limit`` UTF-16 units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def truncate(text: str, limit: int) -> str:
    """``text`` if it fits, else a shortened copy ending in "…" that fits."""
    if utf16_len(text) <= limit:
        return text
    if limit < utf16_len(ELLIPSIS):
        raise ValueError(f"limit {limit} leaves no room for an ellipsis")
    return prefix_within(text, limit - utf16_len(ELLIPSIS)).rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` UTF-16 units.

    Prefers a line break, then a space, then a CJK sentence end in the second half
    of each piece, and only cuts mid-word when none is there. The separator a piece
    was cut at (a newline or space) is dropped; punctuation stays with its sentence.
    An empty text gives no pieces.
    """
    if limit < 2:
        raise ValueError("a split limit must leave room for a surrogate pair")
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = prefix_within(rest, limit)
        cut, skip = _break_point(window)
        pieces.append(rest[:cut])
        rest = rest[cut + skip :]
    if rest:
        pieces.append(rest)
    return pieces


def _break_point(window: str) -> tuple[int, int]:
    """Index to cut ``window`` at and how many separator characters to drop."""
    floor = len(window) // 2
    for chars, drop in _BREAKS:
        index = max(window.rfind(ch) for ch in chars)
        if index > floor:
            return (index, 1) if drop else (index + 1, 0)
    return len(window), 0

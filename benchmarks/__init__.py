"""Benchmarks: chatcart against a bare Flask floor and a hand-written SDK echo bot.

Run with ``make bench`` (or ``python -m benchmarks``); see benchmarks/README.md.
Never imported by the tests.
"""

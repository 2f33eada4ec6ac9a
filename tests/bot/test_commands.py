"""Reading merchant command lines: names, words, free text and order terms."""

from __future__ import annotations

import pytest

from bot.commands import admin, customers, orders
from bot.commands.order_create import read_terms
from bot.commands.parser import USAGE, UsageError, parse
from commerce.services.order_requests import LineRequest


def test_full_width_slash_and_words_are_folded_but_free_text_is_kept():
    inv = parse("／ＲＥＪＥＣＴ　２６０５０４００１　金額不符，請補款！")
    assert (inv.name, inv.words[0]) == ("reject", "260504001")
    assert inv.after(1) == "金額不符，請補款！"


@pytest.mark.parametrize("text", ["hello", "/", "/ ", "/訂單 1", "  ", "／"])
def test_text_that_is_not_a_command(text):
    assert parse(text) is None


def test_after_skips_words_and_keeps_inner_spacing():
    inv = parse("/note ab12cd  喜歡  烏龍茶")
    assert inv.after(1) == "喜歡  烏龍茶" and inv.after(3) == ""


def test_order_terms_merge_repeated_skus_and_read_options():
    lines, options = read_terms(parse(
        "/order ab12cd TEA-OOLONG*1 ＣＨＯＰ-５＊2 TEA-OOLONG*2 ship=home PAY=cod note=週五 前到"))
    assert lines == (LineRequest("TEA-OOLONG", 3), LineRequest("CHOP-5", 2))
    assert options == {"ship": "home", "pay": "cod", "note": "週五 前到"}


@pytest.mark.parametrize("line, problem", [
    ("/order ab12cd TEA-OOLONG", "看不懂「TEA-OOLONG」"),
    ("/order ab12cd TEA-OOLONG*0", "看不懂「TEA-OOLONG*0」"),
    ("/order ab12cd *2", "看不懂「*2」"),
    ("/order ab12cd ship=home", "至少需要一項商品"),
])
def test_order_terms_that_do_not_fit_answer_with_the_usage_line(line, problem):
    with pytest.raises(UsageError) as caught:
        read_terms(parse(line))
    assert str(caught.value).startswith(problem)
    assert str(caught.value).endswith("用法：" + USAGE["order"])


def test_every_command_has_a_usage_line_and_every_usage_line_a_command():
    handled = {*admin.HANDLERS, *orders.HANDLERS, *customers.HANDLERS, "admin"}
    assert handled == set(USAGE)

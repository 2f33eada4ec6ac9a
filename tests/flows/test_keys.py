from __future__ import annotations

import sys

import pytest

from commerce.identity import Channel, ConversationKey
from flows.keys import KeyBuilder

CONV = ConversationKey(Channel.LINE, "shop1", "U123")


def test_conversation_key_uses_its_stable_text_form() -> None:
    assert KeyBuilder().build("flow:snapshot", CONV) == "chatcart:flow:snapshot:line:shop1:U123"


def test_opaque_id_and_singleton_kinds() -> None:
    keys = KeyBuilder("test7")
    assert keys.build("binding:issue", "abc_-9") == "test7:binding:issue:abc_-9"
    assert keys.build("flow:due") == "test7:flow:due"


def test_prefix_separates_deployments() -> None:
    assert KeyBuilder("a").build("lock", CONV) != KeyBuilder("b").build("lock", CONV)


def test_different_conversations_get_different_keys() -> None:
    other = ConversationKey(Channel.MESSENGER, "shop1", "U123")
    keys = KeyBuilder()
    assert keys.build("lock", CONV) != keys.build("lock", other)


@pytest.mark.parametrize("kind", ["", ":lock", "lock:", "a::b", "has space"])
def test_malformed_kinds_are_refused(kind: str) -> None:
    with pytest.raises(ValueError):
        KeyBuilder().build(kind, CONV)


@pytest.mark.parametrize("ident", ["", "two words", "tab\there"])
def test_malformed_ids_are_refused(ident: str) -> None:
    with pytest.raises(ValueError):
        KeyBuilder().build("lock", ident)


def test_empty_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        KeyBuilder("")


WHITESPACE = [ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace()]


def test_the_whitespace_search_matches_str_isspace_on_every_code_point() -> None:
    from flows.keys import _WHITESPACE

    found = {ch for ch in map(chr, range(sys.maxunicode + 1)) if _WHITESPACE.search(ch)}
    assert found == set(WHITESPACE)


@pytest.mark.parametrize("space", WHITESPACE, ids=lambda ch: f"U+{ord(ch):04X}")
def test_every_kind_of_whitespace_is_refused_anywhere(space: str) -> None:
    keys = KeyBuilder()
    for ident in (space, f"a{space}", f"{space}a", f"a{space}b"):
        with pytest.raises(ValueError):
            keys.build("lock", ident)
    with pytest.raises(ValueError):
        keys.build(f"lock{space}x")
    with pytest.raises(ValueError):
        KeyBuilder(f"chat{space}cart")


def test_a_kind_used_before_still_refuses_bad_ids_and_a_refused_kind_stays_refused() -> None:
    keys = KeyBuilder("t")
    assert keys.build("inbound:seen", "line:e1") == "t:inbound:seen:line:e1"
    assert keys.build("inbound:seen", "line:e2") == "t:inbound:seen:line:e2"
    assert keys.build("inbound:seen") == "t:inbound:seen"
    for bad in ("", "two words"):
        with pytest.raises(ValueError):
            keys.build("inbound:seen", bad)
    for _ in range(2):
        with pytest.raises(ValueError):
            keys.build("a::b", "x")


def test_non_string_parts_are_refused() -> None:
    with pytest.raises(ValueError):
        KeyBuilder().build(["lock"], "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        KeyBuilder().build("lock", 7)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        KeyBuilder(None)  # type: ignore[arg-type]


def test_the_head_of_a_kind_is_what_its_keys_start_with():
    keys = KeyBuilder("shop1")
    assert keys.head("inbound:mailbox") == "shop1:inbound:mailbox:"
    assert keys.build("inbound:mailbox", "line:main:U1") == \
        keys.head("inbound:mailbox") + "line:main:U1"
    with pytest.raises(ValueError):
        keys.head("bad kind")

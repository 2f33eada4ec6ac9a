from __future__ import annotations

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

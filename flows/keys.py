"""The one place that spells Redis key names.

Every process (web, workers, sender) shares one Redis, so two modules that
built ``"chatcart:lock:" + ...`` by hand would sooner or later disagree on a
separator or a prefix and silently stop seeing each other's data. Keys are
built here from a kind (what the key holds) and an identity (whose it is).
Tests and second deployments on the same server use a different prefix.
"""

from __future__ import annotations

import re

from commerce.identity import ConversationKey

# The same characters as ``str.isspace`` (tests/flows/test_keys.py checks every code
# point), found by one regex search instead of a Python loop over the characters.
_WHITESPACE = re.compile(r"\s")
# Kinds are a few literals in the code; more than this means kinds built from data,
# which are then checked on every call instead of being remembered.
_MAX_REMEMBERED_KINDS = 256


class KeyBuilder:
    """Turns ``(kind, identity)`` into ``prefix:kind:identity``.

    ``kind`` may itself be namespaced with ``:`` (``"flow:snapshot"``) so that
    ``SCAN prefix:flow:*`` finds everything of one module. An identity is a
    ``ConversationKey`` (its stable ``as_str()`` form) or an opaque id string.
    A kind, once checked, is remembered with its prefix, so the hot paths (one key
    or more per webhook) only check the identity.
    """

    def __init__(self, prefix: str = "chatcart") -> None:
        _check_part("prefix", prefix)
        self._prefix = prefix
        self._heads: dict[str, str] = {}

    @property
    def prefix(self) -> str:
        return self._prefix

    def build(self, kind: str, ident: ConversationKey | str | None = None) -> str:
        """Key for ``kind``; without ``ident`` the key is a singleton of that kind."""
        head = self._heads.get(kind) if isinstance(kind, str) else None
        if head is None:
            head = self._head(kind)
        if ident is None:
            return head
        text = ident.as_str() if isinstance(ident, ConversationKey) else ident
        _check_part("identity", text)
        return f"{head}:{text}"

    def head(self, kind: str) -> str:
        """What every key of ``kind`` with an identity starts with:
        ``build(kind, ident) == head(kind) + ident``. For Lua scripts that learn an
        identity inside Redis (an id read from another key) and build the key there."""
        return self.build(kind) + ":"

    def _head(self, kind: str) -> str:
        _check_part("kind", kind)
        if kind.startswith(":") or kind.endswith(":") or "::" in kind:
            raise ValueError(f"kind has an empty segment: {kind!r}")
        head = f"{self._prefix}:{kind}"
        if len(self._heads) < _MAX_REMEMBERED_KINDS:
            self._heads[kind] = head
        return head


def _check_part(what: str, text: str) -> None:
    if not isinstance(text, str) or not text:
        raise ValueError(f"a Redis key {what} must be a non-empty string")
    if _WHITESPACE.search(text) is not None:
        raise ValueError(f"a Redis key {what} may not contain whitespace: {text!r}")

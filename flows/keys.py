"""The one place that spells Redis key names.

Every process (web, workers, sender) shares one Redis, so two modules that
built ``"chatcart:lock:" + ...`` by hand would sooner or later disagree on a
separator or a prefix and silently stop seeing each other's data. Keys are
built here from a kind (what the key holds) and an identity (whose it is).
Tests and second deployments on the same server use a different prefix.
"""

from __future__ import annotations

from commerce.identity import ConversationKey


class KeyBuilder:
    """Turns ``(kind, identity)`` into ``prefix:kind:identity``.

    ``kind`` may itself be namespaced with ``:`` (``"flow:snapshot"``) so that
    ``SCAN prefix:flow:*`` finds everything of one module. An identity is a
    ``ConversationKey`` (its stable ``as_str()`` form) or an opaque id string.
    """

    def __init__(self, prefix: str = "chatcart") -> None:
        _check_part("prefix", prefix)
        self.prefix = prefix

    def build(self, kind: str, ident: ConversationKey | str | None = None) -> str:
        """Key for ``kind``; without ``ident`` the key is a singleton of that kind."""
        _check_part("kind", kind)
        if kind.startswith(":") or kind.endswith(":") or "::" in kind:
            raise ValueError(f"kind has an empty segment: {kind!r}")
        if ident is None:
            return f"{self.prefix}:{kind}"
        text = ident.as_str() if isinstance(ident, ConversationKey) else ident
        _check_part("identity", text)
        return f"{self.prefix}:{kind}:{text}"


def _check_part(what: str, text: str) -> None:
    if not isinstance(text, str) or not text:
        raise ValueError(f"a Redis key {what} must be a non-empty string")
    if any(ch.isspace() for ch in text):
        raise ValueError(f"a Redis key {what} may not contain whitespace: {text!r}")

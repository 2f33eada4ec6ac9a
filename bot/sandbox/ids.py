"""Identifiers shaped like the platforms' own.

The service may validate or store these (a LINE user id is ``U`` + 32 hex digits,
a webhook event id is a ULID), so the emulator produces the real shapes rather than
counters. Ids derived from a name are deterministic, which lets the chat page keep
the same customer across reloads.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(at: datetime) -> str:
    """A 26-character ULID: 48-bit millisecond time, then 80 random bits."""
    value = (int(at.timestamp() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def line_user_id(seed: str | None = None) -> str:
    """``U`` + 32 lowercase hex digits; stable for the same seed."""
    if seed is None:
        return "U" + secrets.token_hex(16)
    return "U" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def messenger_psid(seed: str | None = None) -> str:
    """A 16-digit page-scoped id; stable for the same seed."""
    if seed is None:
        return str(10**15 + secrets.randbelow(9 * 10**15))
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(10**15 + digest % (9 * 10**15))


def numeric_id(digits: int = 18) -> str:
    """A LINE message id: a long string of digits."""
    return str(10 ** (digits - 1) + secrets.randbelow(9 * 10 ** (digits - 1)))


def token(nbytes: int = 16) -> str:
    """Opaque hex for reply tokens, quote tokens and media ids."""
    return secrets.token_hex(nbytes)


def request_id() -> str:
    """The value of ``X-Line-Request-Id``: a UUID like LINE's."""
    return str(uuid.uuid4())


def messenger_mid() -> str:
    """A Messenger message id in the current ``m_`` format."""
    return "m_" + secrets.token_urlsafe(24)

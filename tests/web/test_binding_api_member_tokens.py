"""The member token a shop signs for ``POST /api/binding-codes`` (docs/api.md)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from commerce.services.binding_service import (
    MemberTokenError,
    sign_member_token,
    verify_member_token,
)

SECRET = "shop-and-chatcart-share-this"
NOW = datetime(2026, 5, 4, 2, 0, tzinfo=timezone.utc)
LATER = int((NOW + timedelta(minutes=30)).timestamp())


def refusal(token: str, secret: str | None = SECRET, now: datetime = NOW) -> str:
    with pytest.raises(MemberTokenError) as caught:
        verify_member_token(token, secret, now)
    return caught.value.reason


def test_the_documented_format_is_what_is_verified():
    signature = hmac.new(SECRET.encode(), f"meihua@example.com.{LATER}".encode(),
                         hashlib.sha256).hexdigest()
    token = f"meihua@example.com.{LATER}.{signature}"
    assert sign_member_token(SECRET, "meihua@example.com", LATER) == token
    assert verify_member_token(token, SECRET, NOW) == "meihua@example.com"


def test_a_changed_member_expiry_or_secret_is_forged():
    token = sign_member_token(SECRET, "#12", LATER)
    member, expires, signature = token.split(".")
    assert refusal(f"#13.{expires}.{signature}") == "forged"
    assert refusal(f"{member}.{LATER + 60}.{signature}") == "forged"
    assert refusal(token, secret="another-secret") == "forged"


def test_expired_and_overlong_tokens_are_refused():
    assert refusal(sign_member_token(SECRET, "#12", int(NOW.timestamp()))) == "expired"
    far = int((NOW + timedelta(days=2)).timestamp())
    assert refusal(sign_member_token(SECRET, "#12", far)) == "expired"


@pytest.mark.parametrize("token", ["", "abc", "#12.soon.00", "#12.1.xyz", "a b.1." + "0" * 64])
def test_malformed_tokens_are_refused(token):
    assert refusal(token) == "malformed"


def test_without_the_secret_member_tokens_are_disabled():
    assert refusal(sign_member_token(SECRET, "#12", LATER), secret=None) == "disabled"

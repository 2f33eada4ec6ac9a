"""CSRF tokens for the order page's forms.

The page has no login session: whoever holds the link may act on the order. A
forged cross-site POST would not know the link, but the link can leak (a shared
screenshot, a forwarded message), so every form also carries a token signed with
the app's secret and bound to that one link: a token taken from one order's page
is useless on another's, and it stops working a day after the page was shown.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "chatcart.order-page.csrf"
MAX_AGE_SECONDS = 24 * 3600


def _link_digest(link_token: str) -> str:
    return hashlib.sha256(link_token.encode()).hexdigest()[:32]


def issue(secret_key: str, link_token: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(_link_digest(link_token))


def is_valid(secret_key: str, link_token: str, submitted: str | None) -> bool:
    if not submitted or len(submitted) > 200:
        return False
    try:
        value = URLSafeTimedSerializer(secret_key, salt=SALT).loads(
            submitted, max_age=MAX_AGE_SECONDS)
    except BadData:
        return False
    return value == _link_digest(link_token)

"""Language of the customer pages: zh-TW unless the customer reads English.

A link opened inside LINE or Messenger carries the phone's language in
``Accept-Language``; a switch on the page (``?lang=en``) overrides it and is
remembered in a cookie, since in-app browsers keep cookies per app.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, request

from flows.i18n import SUPPORTED, Catalogs, normalize_locale

CATALOGS = Catalogs(Path(__file__).resolve().parents[1] / "locales", "web")
LANG_COOKIE = "chatcart_lang"
_LANGUAGE_TAGS = ["zh-TW", "zh", "en"]


def choose_locale(default: str) -> str:
    """The switch, then the remembered choice, then the browser, then the store."""
    for value in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in SUPPORTED:
            return value
    best = request.accept_languages.best_match(_LANGUAGE_TAGS)
    return normalize_locale(best) if best else default


def remember_locale(response: Response) -> Response:
    """Keep an explicit switch for the next pages (and the redirects after a POST)."""
    asked = request.args.get("lang")
    if asked in SUPPORTED:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True)
    return response


def translate(locale: str, message: str, **values: object) -> str:
    return CATALOGS.gettext(locale, message, **values)

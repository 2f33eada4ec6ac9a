"""Message catalogs (gettext ``.po`` files read with Babel) for customer-facing text.

Catalogs are compiled in memory when first used, so a fresh checkout needs no
build step. zh_TW is the default; English is complete; a missing translation
falls back to the msgid (written in zh-TW), never to an empty string.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT_LOCALE = "zh_TW"
SUPPORTED = ("zh_TW", "en")


def normalize_locale(value: str | None) -> str:
    """``en-US``, ``en``, ``zh-Hant-TW`` ... -> one of SUPPORTED (default zh_TW)."""
    if not value:
        return DEFAULT_LOCALE
    value = value.replace("-", "_").lower()
    return "en" if value.startswith("en") else DEFAULT_LOCALE


class Catalogs:
    """Translations of one domain kept in ``<directory>/<locale>/LC_MESSAGES/<domain>.po``."""

    def __init__(self, directory: Path, domain: str = "messages") -> None:
        self._dir = directory
        self._domain = domain
        self._cache: dict[str, NullTranslations] = {}
        self._lock = threading.Lock()

    def translations(self, locale: str) -> NullTranslations:
        locale = normalize_locale(locale)
        loaded = self._cache.get(locale)  # the usual case: no lock for worker threads to queue on
        if loaded is not None:
            return loaded
        with self._lock:
            if locale not in self._cache:
                self._cache[locale] = self._load(locale)
            return self._cache[locale]

    def _load(self, locale: str) -> NullTranslations:
        path = self._dir / locale / "LC_MESSAGES" / f"{self._domain}.po"
        if not path.exists():
            return NullTranslations()
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=self._domain)

    def gettext(self, locale: str, message: str, **values: object) -> str:
        text = self.translations(locale).gettext(message)
        return text.format(**values) if values else text

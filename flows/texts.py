"""Customer-facing wording: the message catalogs plus the merchant's overrides.

Every text a customer reads in the chat is looked up here by its zh-TW msgid in
``flows/locales/<locale>/LC_MESSAGES/messages.po``, so a translator edits one
file per language and English is never left half done. A merchant may reword
the two texts customers notice most (the binding success and the auto-reply)
in config; an empty override keeps the catalog's wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flows.i18n import DEFAULT_LOCALE, Catalogs, normalize_locale
from flows.settings import TextOverrides

CATALOGS = Catalogs(Path(__file__).resolve().parent / "locales")

BINDING_SUCCESS = "綁定成功！之後購物車與訂單通知會傳到這裡。"
AUTO_REPLY = "感謝您的訊息，我們會盡快回覆您！"


class Texts:
    """Strings for one locale. Call it like gettext: ``t("訂單 {number} 已確認", number=n)``."""

    def __init__(
        self,
        locale: str = DEFAULT_LOCALE,
        overrides: Mapping[str, TextOverrides] | None = None,
        catalogs: Catalogs = CATALOGS,
    ) -> None:
        self.locale = normalize_locale(locale)
        self._overrides = dict(overrides or {})
        self._catalogs = catalogs

    def __call__(self, message: str, **values: object) -> str:
        return self._catalogs.gettext(self.locale, message, **values)

    def for_locale(self, locale: str) -> Texts:
        return Texts(locale, self._overrides, self._catalogs)

    def binding_success(self) -> str:
        return self._override("binding_success") or self(BINDING_SUCCESS)

    def auto_reply(self) -> str:
        return self._override("auto_reply") or self(AUTO_REPLY)

    def money(self, amount: int) -> str:
        """Whole New Taiwan dollars as shoppers write them: ``NT$1,280``, ``-NT$100``."""
        sign = "-" if amount < 0 else ""
        return f"{sign}NT${abs(amount):,}"

    def _override(self, name: str) -> str:
        chosen = self._overrides.get(self.locale)
        return getattr(chosen, name, "").strip() if chosen is not None else ""

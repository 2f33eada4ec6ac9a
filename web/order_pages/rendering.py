"""What the order-page templates may call: ``_`` (translate), ``money`` and the
language switch, all in the reader's language."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from commerce.money import format_money
from web.order_pages.i18n import translate


def install_rendering(bp: Blueprint) -> None:
    @bp.context_processor
    def _helpers() -> dict:
        locale = g.get("locale", "zh_TW")
        currency = current_app.extensions["chatcart"].config.store.currency

        def money(amount: int) -> str:
            return format_money(amount, currency, locale)

        def switch_to(lang: str) -> str:
            return f"{request.path}?lang={lang}"

        return {
            "_": lambda message, **values: translate(locale, message, **values),
            "money": money,
            "locale": locale,
            "html_lang": "en" if locale == "en" else "zh-Hant-TW",
            "switch_to": switch_to,
        }

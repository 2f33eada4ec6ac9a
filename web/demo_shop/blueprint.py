"""The demo storefront, served only while a platform runs in the sandbox.

It is an ordinary page of a "shop" that happens to be served by chatcart itself, so
it includes the widget with one script tag exactly as a real shop would, and needs
no CORS (same origin)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request

from commerce.money import format_money

bp = Blueprint("demo_shop", __name__, template_folder="templates", static_folder="static",
               static_url_path="/demo/assets")


@dataclass(frozen=True)
class Product:
    name: str
    price: int
    variants: tuple[tuple[str, str], ...]  # (sku, label)


@bp.get("/demo/shop")
def shop() -> str:
    container = current_app.extensions["chatcart"]
    if not (container.env.line_sandbox or container.env.messenger_sandbox):
        abort(404)  # a demo for trying chatcart locally, not a page of a live shop
    channel = "messenger" if request.args.get("channel") == "messenger" else "line"
    currency = container.config.store.currency
    return render_template(
        "demo_shop/shop.html", products=_products(container.catalog.list_rows(
            include_hidden=False)),
        channel=channel, popup=getattr(container.config.widget, channel),
        store=container.config.store,
        money=lambda amount: format_money(amount, currency, "zh_TW"),
    )


def _products(rows: list) -> list[Product]:  # noqa: ANN001 - CatalogRow
    grouped: dict[str, list] = {}
    for row in rows:
        if not row.is_gift and row.stock > 0:
            grouped.setdefault(row.product, []).append(row)
    return [
        Product(name, min(r.price for r in variants),
                tuple((r.sku, r.variant) for r in variants))
        for name, variants in grouped.items()
    ]

"""``POST /api/quote``: the priced breakdown of a draft order (docs/api.md).

Merchant-only, with an API token from ``chatcart admin token``, because a draft may
carry the merchant's custom discounts and credit amount. Nothing is created or
reserved. The body is read strictly: an unknown or mistyped field is a 400 that
names it, never silently ignored, so a front-end bug cannot quote the wrong order.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from commerce import limits
from commerce.errors import DomainError, NotFound
from commerce.services.engine_pricer import EnginePricer
from commerce.services.order_requests import CustomItemRequest, LineRequest
from commerce.services.quote_service import Quote, QuoteDraft, QuoteService

bp = Blueprint("quote_api", __name__)

MAX_QUOTE_BODY = 256 * 1024

# Domain refusals name the domain's field; answer with the request's key instead.
_REQUEST_KEYS = {
    "credit": "store_credit",
    "payment": "payment_method",
    "coupon": "coupon_code",
    "quantity": "lines",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Line(_Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=limits.LINE_QUANTITY_MAX)


class _CustomItem(_Strict):
    name: str = Field(min_length=1, max_length=limits.CUSTOM_ITEM_NAME_MAX)
    unit_price: int = Field(ge=0)
    quantity: int = Field(default=1, ge=1, le=limits.LINE_QUANTITY_MAX)


class _Customer(_Strict):
    id: int | None = None
    phone: str | None = None
    email: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> _Customer:
        if sum(value is not None for value in (self.id, self.phone, self.email)) != 1:
            raise ValueError("give exactly one of id, phone or email")
        return self


class _CustomDiscount(_Strict):
    name: str
    amount: int | None = None
    percent: int | None = None


class QuoteBody(_Strict):
    customer: _Customer | None = None
    lines: list[_Line] = []
    gifts: list[_Line] = []
    custom_items: list[_CustomItem] = []
    delivery_method: str
    payment_method: str | None = None
    destination: str | None = None
    coupon_code: str | None = None
    store_credit: int | None = Field(default=None, ge=0)
    custom_discounts: list[_CustomDiscount] = []


def _error(status: int, error: str, message: str, field: str | None = None) -> Response:
    response = jsonify(error=error, message=message, field=field)
    response.status_code = status
    return response


def _authorised() -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    container = current_app.extensions["chatcart"]
    return scheme.lower() == "bearer" and container.admins.check_token(token.strip())


def _service() -> QuoteService:
    container = current_app.extensions["chatcart"]
    pricer = container.orders.pricer
    if not isinstance(pricer, EnginePricer):
        raise RuntimeError("quotes need the order service to price with EnginePricer")
    checkout = container.config.checkout()
    return QuoteService(container.uow, pricer, delivery_methods=checkout.delivery_by_code(),
                        payment_methods=checkout.payment_by_code())


def _draft(body: QuoteBody) -> QuoteDraft:
    customer_id = None
    if body.customer is not None:
        customer_id = body.customer.id
        if customer_id is None:
            contact = body.customer.phone or body.customer.email or ""
            customer_id = current_app.extensions["chatcart"].customers.find_by_contact(contact)
            if customer_id is None:
                raise NotFound(f"找不到顧客 {contact}", field="customer")
    return QuoteDraft(
        lines=tuple(LineRequest(line.sku, line.quantity) for line in body.lines),
        gifts=tuple(LineRequest(line.sku, line.quantity) for line in body.gifts),
        custom_items=tuple(CustomItemRequest(c.name, c.unit_price, c.quantity)
                           for c in body.custom_items),
        delivery_method=body.delivery_method,
        payment_method=body.payment_method,
        destination=body.destination,
        customer_id=customer_id,
        coupon_code=body.coupon_code,
        store_credit=body.store_credit,
        custom_discounts=tuple(d.model_dump(exclude_none=True) for d in body.custom_discounts),
    )


def _answer(quote: Quote) -> dict[str, Any]:
    data = quote.breakdown.to_dict()
    data["available_payment_methods"] = [
        {"code": m.code, "kind": m.kind.value, "name": m.name, "name_en": m.name_en,
         "selectable": m.selectable}
        for m in quote.payment_methods
    ]
    if quote.coupons is not None:
        data["coupons"] = [
            {"code": o.coupon.code, "name": o.coupon.name, "name_en": o.coupon.name_en,
             "usable": o.usable, "reason_code": o.reason_code, "reason": o.reason,
             "saving": o.saving}
            for o in quote.coupons
        ]
    return data


@bp.post("/api/quote")
def quote() -> Response:
    if not _authorised():
        response = _error(401, "unauthorized", "send a merchant API token: "
                          "Authorization: Bearer <token> (chatcart admin token)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="chatcart"'
        return response
    if (request.content_length or 0) > MAX_QUOTE_BODY:
        return _error(413, "payload_too_large", f"a quote body is at most {MAX_QUOTE_BODY} bytes")
    raw = request.stream.read(MAX_QUOTE_BODY + 1)
    if len(raw) > MAX_QUOTE_BODY:
        return _error(413, "payload_too_large", f"a quote body is at most {MAX_QUOTE_BODY} bytes")
    try:
        body = QuoteBody.model_validate_json(raw or b"null")
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        return _error(400, "invalid", message, field)
    try:
        result = _service().details(_draft(body))
    except DomainError as exc:
        return _error(400, exc.code, exc.message, _REQUEST_KEYS.get(exc.field, exc.field))
    return jsonify(_answer(result))

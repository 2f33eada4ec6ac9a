"""The pickup-store picker (e-map) and the callback that receives the chosen store.

In the real flow (commerce-tw.md §3) the buyer's browser goes to the logistics
provider's map with our signed token, and the provider posts the chosen store back
through that browser: ``LogisticsSubType``, ``CVSStoreID``, ``CVSStoreName``,
``CVSAddress``, ``CVSTelephone``, ``CVSOutSide`` and our token in ``ExtraData``.
Everything in that post passed through the buyer's hands, so the callback trusts
none of it: the token must be ours, unexpired and for the same chain, and every
field is validated before a ``PickupStore`` snapshot is made.

Until a logistics provider is connected, ``GET /store-picker`` stands in for the
provider's map with the sandbox stores, posting exactly the fields a provider does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from commerce.delivery import SANDBOX_STORES, Chain, PickupStore, pickup_store
from commerce.errors import ValidationError

bp = Blueprint("store_picker", __name__, template_folder="templates")

TOKEN_MAX_AGE_SECONDS = 30 * 60
_SALT = "chatcart.store-picker"
# The provider's sub-types (B2C and C2C) and the chain each belongs to.
_SUBTYPES = {"UNIMART": Chain.SEVEN_ELEVEN, "UNIMARTC2C": Chain.SEVEN_ELEVEN,
             "FAMI": Chain.FAMILYMART, "FAMIC2C": Chain.FAMILYMART}
_C2C_SUBTYPE = {Chain.SEVEN_ELEVEN: "UNIMARTC2C", Chain.FAMILYMART: "FAMIC2C"}
# Our snapshot's fields, named as the provider posts them.
_POSTED_NAMES = {"chain": "LogisticsSubType", "store_id": "CVSStoreID",
                 "name": "CVSStoreName", "address": "CVSAddress", "outlying": "CVSOutSide"}


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def picker_token(secret_key: str, chain: Chain, ref: str) -> str:
    """A token that lets one buyer pick a ``chain`` store for ``ref`` (an order number,
    a conversation...) within ``TOKEN_MAX_AGE_SECONDS``."""
    return _serializer(secret_key).dumps({"chain": chain.value, "ref": ref})


class _Refused(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _read_token(token: str) -> tuple[Chain, str]:
    try:
        data = _serializer(current_app.config["SECRET_KEY"]).loads(
            token, max_age=TOKEN_MAX_AGE_SECONDS)
        return Chain(data["chain"]), str(data["ref"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise _Refused("選擇門市的連結無效或已過期，請重新開啟", "ExtraData") from None


@bp.errorhandler(_Refused)
def _refused(exc: _Refused) -> tuple[Any, int]:
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error="invalid", field=exc.field, message=exc.message), 400
    return render_template("store_picker/result.html", store=None, message=exc.message), 400


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/store-picker")
def store_map() -> str:
    """The emulated map: the chain's sandbox stores, each a form posting like a provider."""
    token = request.args.get("token", "")
    chain, _ = _read_token(token)
    if request.args.get("chain") != chain.value:
        raise _Refused("門市連結與超商不符，請重新開啟", "chain")
    return render_template(
        "store_picker/map.html", stores=SANDBOX_STORES[chain], token=token,
        subtype=_C2C_SUBTYPE[chain], chain_name="7-ELEVEN" if chain is Chain.SEVEN_ELEVEN
        else "全家",
    )


@bp.post("/store-picker/callback")
def chosen() -> Any:
    """Check the token and every posted field; answer with the store snapshot."""
    form = request.form
    chain, ref = _read_token(form.get("ExtraData", ""))
    if _SUBTYPES.get(form.get("LogisticsSubType", "")) is not chain:
        raise _Refused("門市類型與連結不符", "LogisticsSubType")
    outlying = form.get("CVSOutSide", "0")
    if outlying not in ("0", "1"):
        raise _Refused("CVSOutSide 需為 0 或 1", "CVSOutSide")
    telephone = form.get("CVSTelephone", "")
    if len(telephone) > 20 or not all(ch.isdigit() or ch in "-() " for ch in telephone):
        raise _Refused("門市電話格式不正確", "CVSTelephone")
    store = _snapshot(chain, form, outlying == "1")
    if request.accept_mimetypes.best == "application/json":
        return jsonify(ref=ref, store=store.model_dump(mode="json"))
    return render_template("store_picker/result.html", store=store)


def _snapshot(chain: Chain, form: Any, outlying: bool) -> PickupStore:
    try:
        return pickup_store(
            chain=chain, store_id=form.get("CVSStoreID", "").strip(),
            name=form.get("CVSStoreName", "").strip(),
            address=form.get("CVSAddress", "").strip(), outlying=outlying,
        )
    except ValidationError as exc:
        raise _Refused(exc.message, _POSTED_NAMES.get(exc.field or "", exc.field)) from None

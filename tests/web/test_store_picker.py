"""The emulated store map and the e-map callback, over Flask's test client."""

from __future__ import annotations

import re

import pytest
from itsdangerous import TimestampSigner

from commerce.delivery import SANDBOX_STORES, Chain
from web.app import create_app
from web.store_picker import TOKEN_MAX_AGE_SECONDS, picker_token

JSON = {"Accept": "application/json"}


@pytest.fixture
def app(shop):
    return create_app(shop)


@pytest.fixture
def client(app):
    return app.test_client()


def token_for(app, chain: Chain = Chain.SEVEN_ELEVEN, ref: str = "261123001") -> str:
    return picker_token(app.config["SECRET_KEY"], chain, ref)


def posted(app, **changes: str) -> dict[str, str]:
    """What a provider posts back for the 馬公 sandbox store, with ``changes``."""
    fields = {"LogisticsSubType": "UNIMARTC2C", "CVSStoreID": "880301",
              "CVSStoreName": "沙盒 馬公門市", "CVSAddress": "澎湖縣馬公市示範路3號",
              "CVSTelephone": "06-9261234", "CVSOutSide": "1", "ExtraData": token_for(app)}
    return {**fields, **changes}


def test_the_map_lists_the_chains_sandbox_stores_as_provider_forms(app, client):
    token = token_for(app)
    page = client.get("/store-picker", query_string={"chain": "711", "token": token})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for store in SANDBOX_STORES[Chain.SEVEN_ELEVEN]:
        assert f'name="CVSStoreID" value="{store.store_id}"' in html
    for store in SANDBOX_STORES[Chain.FAMILYMART]:
        assert store.store_id not in html
    assert html.count(f'name="ExtraData" value="{token}"') == 3
    assert 'action="/store-picker/callback"' in html
    assert page.headers["Cache-Control"] == "no-store"


def test_choosing_from_the_map_returns_the_checked_snapshot(app, client):
    page = client.get("/store-picker", query_string={
        "chain": "family", "token": token_for(app, Chain.FAMILYMART, "conv-7")})
    form = re.search(r"<form.*?</form>", page.get_data(as_text=True), re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    chosen = client.post("/store-picker/callback", data=fields, headers=JSON)
    assert chosen.status_code == 200
    first = SANDBOX_STORES[Chain.FAMILYMART][0]
    assert chosen.get_json() == {"ref": "conv-7", "store": first.model_dump(mode="json")}


def test_the_callback_page_shows_the_store(app, client):
    response = client.post("/store-picker/callback", data=posted(app))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-store-id="880301"' in html and "（離島）" in html


def test_an_outlying_store_keeps_its_flag(app, client):
    store = client.post("/store-picker/callback", data=posted(app), headers=JSON).get_json()
    assert store["store"]["outlying"] is True and store["ref"] == "261123001"


@pytest.mark.parametrize("query", [
    lambda app: {"chain": "711"},
    lambda app: {"chain": "711", "token": "forged.token"},
    lambda app: {"chain": "family", "token": token_for(app, Chain.SEVEN_ELEVEN)},
])
def test_the_map_needs_our_token_for_that_chain(app, client, query):
    response = client.get("/store-picker", query_string=query(app))
    assert response.status_code == 400
    assert "CVSStoreID" not in response.get_data(as_text=True)


def test_an_expired_token_is_refused(app, client, monkeypatch):
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: real(self) - TOKEN_MAX_AGE_SECONDS - 1)
    old = token_for(app)
    monkeypatch.undo()
    response = client.post("/store-picker/callback", data=posted(app, ExtraData=old),
                           headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["field"] == "ExtraData"


def test_a_token_signed_with_another_key_is_refused(app, client):
    foreign = picker_token("someone-elses-key", Chain.SEVEN_ELEVEN, "261123001")
    response = client.post("/store-picker/callback", data=posted(app, ExtraData=foreign),
                           headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["field"] == "ExtraData"


@pytest.mark.parametrize("changes, field", [
    ({"ExtraData": ""}, "ExtraData"),
    ({"LogisticsSubType": "FAMIC2C"}, "LogisticsSubType"),
    ({"LogisticsSubType": "HOME"}, "LogisticsSubType"),
    ({"CVSStoreID": "12345"}, "CVSStoreID"),
    ({"CVSStoreID": "F880301"}, "CVSStoreID"),
    ({"CVSStoreName": ""}, "CVSStoreName"),
    ({"CVSStoreName": "門" * 61}, "CVSStoreName"),
    ({"CVSAddress": " "}, "CVSAddress"),
    ({"CVSAddress": "路" * 121}, "CVSAddress"),
    ({"CVSOutSide": "2"}, "CVSOutSide"),
    ({"CVSTelephone": "<script>"}, "CVSTelephone"),
])
def test_every_posted_field_is_checked(app, client, changes, field):
    response = client.post("/store-picker/callback", data=posted(app, **changes),
                           headers=JSON)
    assert response.status_code == 400
    body = response.get_json()
    assert (body["error"], body["field"]) == ("invalid", field)
    assert body["message"]


def test_a_refusal_page_for_browsers(app, client):
    response = client.post("/store-picker/callback", data=posted(app, CVSStoreID="x"))
    assert response.status_code == 400
    assert 'id="problem"' in response.get_data(as_text=True)

"""The widget's HTTP side: the script, its per-channel settings, CORS for the shop
origins in config, the config itself, and the demo shop page."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from commerce.demo import seed_demo
from web.app import create_app
from web.config import ConfigError, parse_config
from web.widget.blueprint import MESSENGER_BUTTON, TEXTS

SHOP = "https://shop.example"
WEB = Path(__file__).resolve().parents[2] / "web"


def with_widget(config, **widget):
    return config.model_copy(update={"widget": config.widget.model_validate(widget)})


@pytest.fixture
def client(container):
    container.config = with_widget(
        container.config, allowed_origins=[SHOP],
        line={"show_after_adds": 3, "max_per_day": 1, "title": "加好友", "description": "說明",
              "button_text": "接收通知"},
        messenger={"show_after_adds": 4, "title": "Messenger 標題", "description": "說明"})
    seed_demo(container.catalog, container.customers)
    return create_app(container).test_client()


def test_script_is_served_by_us_as_javascript(client):
    response = client.get("/widget/binding.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    body = response.get_data(as_text=True)
    assert "window.ChatcartBinding" in body and "/api/binding-codes" in body
    assert not re.search(r"https?://(?!chat\.shop\.example)", body)  # no third-party host
    assert client.get("/widget/assets/binding.css").status_code == 200


def test_settings_per_channel(client):
    line = client.get("/widget/settings?channel=line").get_json()
    assert (line["show_after_adds"], line["max_per_day"]) == (3, 1)
    assert (line["title"], line["description"]) == ("加好友", "說明")
    assert line["button_text"] == "接收通知"
    assert line["texts"]["bound"] == "已綁定 {name}" and line["texts"]["not_you"] == "不是你?"
    messenger = client.get("/widget/settings?channel=messenger").get_json()
    assert (messenger["show_after_adds"], messenger["title"]) == (4, "Messenger 標題")
    assert messenger["button_text"] == MESSENGER_BUTTON
    assert client.get("/widget/settings?channel=whatsapp").status_code == 400


def test_settings_texts_follow_the_shoppers_language(client):
    english = client.get("/widget/settings?channel=messenger",
                         headers={"Accept-Language": "en-GB,en;q=0.8"}).get_json()
    assert english["button_text"] == "Send to Messenger"
    assert english["texts"]["bound"] == "Linked to {name}"


@pytest.mark.parametrize("path, method", [
    ("/widget/settings?channel=line", "GET"),
    ("/api/binding-codes", "POST"),
    ("/api/binding-codes/abc", "GET"),
])
def test_cors_only_for_configured_origins(client, path, method):
    allowed = client.open(path, method=method, headers={"Origin": SHOP}, json={})
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in allowed.headers["Vary"]
    stranger = client.open(path, method=method, headers={"Origin": "https://evil.example"},
                           json={})
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_preflight_names_the_methods_and_header(client):
    response = client.options("/widget/settings", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "GET"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "DELETE" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"


def test_other_routes_never_get_cors(client):
    response = client.get("/healthz", headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("widget, key", [
    ({"allowed_origins": ["https://shop.example/"]}, "widget.allowed_origins"),
    ({"allowed_origins": ["shop.example"]}, "widget.allowed_origins"),
    ({"messenger": {"button_text": "自訂"}}, "widget.messenger.button_text: unknown key"),
    ({"line": {"show_after_adds": 0}}, "widget.line.show_after_adds"),
    ({"line": {"button_text": "x" * 21}}, "widget.line.button_text"),
])
def test_config_refuses_bad_widget_settings(app_config, widget, key):
    data = app_config.model_dump(mode="json")
    data["widget"] = widget
    with pytest.raises(ConfigError, match=re.escape(key)):
        parse_config(data)


def test_demo_shop_lists_the_catalogue_with_the_widget(client):
    html = client.get("/demo/shop").get_data(as_text=True)
    assert "阿里山烏龍茶 150g" in html and "贈品" not in html
    assert html.count("data-chatcart-add-to-cart") >= 10
    assert '<script src="/widget/binding.js" data-channel="line"' in html
    assert "每加入購物車 3 次" in html and 'href="/sandbox/"' in html
    messenger = client.get("/demo/shop?channel=messenger").get_data(as_text=True)
    assert 'data-channel="messenger"' in messenger and "每加入購物車 4 次" in messenger
    for url in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert url.startswith(("/", "?")), url


def test_demo_shop_is_not_served_with_real_platforms(client, container):
    container.env = replace(container.env, line_sandbox=False, messenger_sandbox=False)
    assert client.get("/demo/shop").status_code == 404


def test_every_widget_text_has_an_english_translation():
    with (WEB / "locales/en/LC_MESSAGES/web.po").open("rb") as handle:
        english = {m.id: m.string for m in read_po(handle) if m.id}
    missing = [t for t in [*TEXTS.values(), MESSENGER_BUTTON] if not english.get(t)]
    assert not missing

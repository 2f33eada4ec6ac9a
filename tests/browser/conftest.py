"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded
browser), and a running chatcart with the sandbox platforms to point it at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live_shop import LiveShop, start_live_shop

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 Line/14.0.0")
#: What the widget tests configure: the popup on every 2nd add, twice a day at most.
WIDGET = {"line": {"show_after_adds": 2, "max_per_day": 2},
          "messenger": {"show_after_adds": 2, "max_per_day": 2}}


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One browser per module (a module may not share Playwright with another one)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def desktop(chromium) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1100, "height": 860}, locale="zh-TW")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def phone(chromium) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-TW",
                                   user_agent=PHONE_UA, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def running_shop(app_config, environment, redis_url) -> Iterator[LiveShop]:
    """chatcart over HTTP with workers, the sandbox, the demo store and ``WIDGET``."""
    from commerce.demo import seed_demo

    config = app_config.model_copy(
        update={"widget": app_config.widget.model_validate(WIDGET)})
    shop = start_live_shop(config, environment, redis_url)
    seed_demo(shop.container.catalog, shop.container.customers)
    yield shop
    shop.stop()


def screenshot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

import pytest

from tests.support.live_shop import start_live_shop


@pytest.fixture
def live_shop(app_config, environment, redis_url):
    """chatcart over real HTTP with the sandbox platforms, workers and the demo store."""
    from commerce.demo import seed_demo

    shop = start_live_shop(app_config, environment, redis_url)
    seed_demo(shop.container.catalog, shop.container.customers)
    yield shop
    shop.stop()


@pytest.fixture
def echo_shop(app_config, environment, redis_url):
    """Like ``live_shop`` but answering every message with the echo router, for tests of
    the transport itself (one visible answer per customer message)."""
    from bot.routing import EchoRouter
    from commerce.demo import seed_demo

    shop = start_live_shop(app_config, environment, redis_url,
                           configure=lambda c: c.extras.update(router=EchoRouter()))
    seed_demo(shop.container.catalog, shop.container.customers)
    yield shop
    shop.stop()

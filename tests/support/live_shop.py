"""A running chatcart for end-to-end tests: the real web app served over HTTP on
loopback, the sandbox emulator mounted in it exactly as ``chatcart run`` does,
real worker threads and a real Redis and SQLite file. Tests talk to it as people
do: customers send signed webhooks through the emulator and read what the
emulator received.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.clock import SandboxClock
from bot.sandbox.emulator import PlatformEmulator
from bot.sandbox.webhooks import Customer, CustomerActions
from commerce.identity import ConversationKey
from web.app import create_app
from web.bootstrap import Container, bootstrap
from web.platform_setup import connect_emulator
from web.runtime import background_services, start_all, stop_all
from web.sandbox.blueprint import create_sandbox_blueprint
from web.sandbox.server import ServerHandle, serve_in_thread


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05,
               message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}; last value: {value!r}")
        time.sleep(interval)


@dataclass
class LiveShop:
    container: Container
    emulator: PlatformEmulator
    actions: CustomerActions
    server: ServerHandle
    url: str
    services: list = field(default_factory=list)

    @property
    def line_account(self) -> str:
        return "main"

    @property
    def page_id(self) -> str:
        return next(iter(self.container.platforms.messenger))

    def customer(self, name: str, channel: str = "line", account: str | None = None) -> Customer:
        if account is None:
            account = self.line_account if channel == "line" else self.page_id
        return self.actions.customer(channel, account, name)

    def merchant(self, name: str = "老闆", channel: str = "line") -> Customer:
        """A customer registered as a merchant admin with a one-time invite code."""
        person = self.customer(name, channel)
        code = self.container.admins.invite()
        account = self.line_account if channel == "line" else self.page_id
        self.container.admins.redeem(code, (channel, account, person.user_id), name)
        # In real use the admin registered by chatting: open the conversation the same way.
        key = ConversationKey(channel, account, person.user_id)
        self.container.conversations.ensure(key, name)
        if channel == "line":
            person.follows()
        else:
            person.opens_link("merchant")
        wait_until(lambda: self.container.conversations.ensure(key).last_inbound_at,
                   message="the merchant's conversation")
        return person

    def start_workers(self, threads: int = 4) -> None:
        self.services = background_services(self.container, worker_threads=threads)
        start_all(self.services)

    def stop(self) -> None:
        stop_all(self.services)
        self.server.stop()
        self.container.close()


def start_live_shop(config, environment, redis_url: str, *, workers: int = 4,
                    clock: SandboxClock | None = None,
                    configure: Callable[[Container], None] | None = None) -> LiveShop:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    clock = clock or SandboxClock()
    emulator = PlatformEmulator(clock, public_base_url=f"{base}/sandbox")
    container = bootstrap(config, environment, redis_url=redis_url,
                          sandbox_base=f"{base}/sandbox", clock=clock.now)
    if configure is not None:
        configure(container)
    app = create_app(container)
    app.register_blueprint(create_sandbox_blueprint(emulator))
    connect_emulator(emulator, container, base)
    container.extras["emulator"] = emulator
    server = serve_in_thread(app, port=port)
    shop = LiveShop(container, emulator, CustomerActions(emulator), server, base)
    if workers:
        shop.start_workers(workers)
    return shop

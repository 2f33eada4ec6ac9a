"""Background services that live beside the web app (workers, sender, sweepers).

``chatcart run`` starts them as threads in the web process; ``chatcart worker``
runs them alone. Each feature registers its services here through the container.
"""

from __future__ import annotations

import logging
from typing import Protocol

from web.bootstrap import Container

log = logging.getLogger("chatcart.runtime")


class BackgroundService(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self, timeout: float = 10) -> None: ...


def background_services(container: Container) -> list[BackgroundService]:
    """Every background service the container's features need, not yet started."""
    factories = container.extras.get("background_factories", [])
    return [factory(container) for factory in factories]


def start_all(services: list[BackgroundService]) -> None:
    for service in services:
        log.info("starting %s", service.name)
        service.start()


def stop_all(services: list[BackgroundService], timeout: float = 10) -> None:
    for service in reversed(services):
        try:
            service.stop(timeout)
        except Exception:  # noqa: BLE001 - keep stopping the others
            log.exception("stopping %s failed", service.name)

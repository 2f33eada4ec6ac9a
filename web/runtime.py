"""Background services that live beside the web app (workers, sender retries,
sweepers). ``chatcart run`` starts them as threads in the web process;
``chatcart worker`` runs them alone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from web.bootstrap import Container

log = logging.getLogger("chatcart.runtime")


class BackgroundService(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self, timeout: float = 10) -> None: ...


ServiceFactory = Callable[[Container], BackgroundService]


def background_services(container: Container, *, worker_threads: int = 4,
                        **worker_options: float) -> list[BackgroundService]:
    """Every background service the features need, not yet started.

    ``worker_options`` tune the inbox workers (``claim_idle_ms``, ``lease_seconds``).
    """
    from web.chat_wiring import relay, worker_pool
    from web.flow_wiring import sweepers

    services: list[BackgroundService] = [
        worker_pool(container, worker_threads, **worker_options), relay(container),
        *sweepers(container)]
    for factory in container.extras.get("background_factories", []):
        services.append(factory(container))
    return services


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

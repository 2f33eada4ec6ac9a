"""The composition root: builds stores, clients and services from config once.

Everything the web process, the workers and the CLI use comes from one
``Container``, so tests build the same objects the service runs with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.platforms import Platforms
from commerce.db.engine import make_engine, make_session_factory
from commerce.media_store import MediaStore
from commerce.services.admin_service import AdminService
from commerce.services.catalog_service import CatalogService
from commerce.services.conversation_service import ConversationService
from commerce.services.customer_service import CustomerService
from commerce.services.engine_pricer import EnginePricer
from commerce.services.order_links import OrderLinkService
from commerce.services.order_service import OrderService
from commerce.services.uow import UnitOfWork
from flows.redis_client import make_redis
from web.config import AppConfig
from web.environment import Environment


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Container:
    config: AppConfig
    env: Environment
    engine: Engine
    session_factory: sessionmaker[Session]
    uow: UnitOfWork
    redis_url: str | None
    catalog: CatalogService
    customers: CustomerService
    orders: OrderService
    conversations: ConversationService
    admins: AdminService
    media: MediaStore
    order_links: OrderLinkService
    platforms: Platforms
    clock: Callable[[], datetime] = field(default=lambda: _utcnow())
    extras: dict = field(default_factory=dict)
    _redis: redis.Redis | None = None
    _chat: object | None = None

    @property
    def redis(self) -> redis.Redis:
        """The shared client, made on first use so Redis-free CLI commands need none."""
        if self._redis is None:
            if not self.redis_url:
                raise RuntimeError("no Redis URL: set REDIS_URL or use `chatcart run`")
            self._redis = make_redis(self.redis_url)
        return self._redis

    @property
    def media_dir(self) -> Path:
        return Path(self.config.media_dir)

    @property
    def chat(self):  # noqa: ANN201 - web.chat_wiring.ChatRuntime, imported lazily
        """Ingestion, outbox, sender and dispatcher; built on first use (needs Redis)."""
        if self._chat is None:
            from web.chat_wiring import build_chat

            self._chat = build_chat(self, self.extras.get("router"))
        return self._chat

    @property
    def ingestor(self):  # noqa: ANN201
        return self.chat.ingestor

    def close(self) -> None:
        self.platforms.close()
        if self._redis is not None:
            self._redis.close()
        self.engine.dispose()


def bootstrap(config: AppConfig, env: Environment, *, redis_url: str | None = None,
              sandbox_base: str | None = None,
              clock: Callable[[], datetime] | None = None) -> Container:
    """Build everything from config; ``clock`` replaces the wall clock (tests, sandbox)."""
    from web.platform_setup import build_platforms

    engine = make_engine(env.database_url)
    session_factory = make_session_factory(engine)
    uow = UnitOfWork(session_factory)
    checkout = config.checkout()
    orders = OrderService(
        uow,
        delivery_methods=checkout.delivery_by_code(),
        payment_methods=checkout.payment_by_code(),
        pricer=EnginePricer(uow, config.pricing_rules(), checkout.payment_by_code(),
                            clock=clock or _utcnow),
        policy=config.orders.policy(config.store.timezone),
        **({"clock": clock} if clock else {}),
    )
    return Container(
        config=config, env=env, engine=engine, session_factory=session_factory, uow=uow,
        redis_url=redis_url or env.redis_url, catalog=CatalogService(uow),
        customers=CustomerService(uow), orders=orders,
        conversations=ConversationService(uow),
        admins=AdminService(uow, [(a.channel, a.account, a.user_id) for a in config.admins]),
        media=MediaStore(uow, Path(config.media_dir)),
        order_links=OrderLinkService(uow),
        platforms=build_platforms(config, env, sandbox_base),
        clock=clock or _utcnow,
    )

"""Composition of the chat flows: engine, binding codes and limits, the production
router and the sweepers, built once per container from config.

Kept beside ``chat_wiring`` rather than in it because the web binding API uses
the same pieces (code registry, limits, binding service) without any of the
chat transport. Everything is made on first use, since it needs Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import timedelta

from bot.chat_router import ChatRouter
from bot.commands import CommandDeps, CommandHandler
from bot.flow_runner import FlowRuntime
from bot.order_cards import CardSender
from bot.sweepers import FlowSweeper, OrderExpirySweeper
from commerce.services.binding_service import BindingService
from flows.binding_codes import BindingCodeRegistry
from flows.definitions import INSTANT_FLOWS, build_registry
from flows.definitions.services import FlowServices
from flows.definitions.stores import IssueDetails, OrderCards
from flows.engine import FlowEngine
from flows.keys import KeyBuilder
from flows.locks import RedisConversationLocks
from flows.rate_limits import AttemptLimiter, FailureLimit, RateLimit, RateLimiter
from flows.snapshots import MemorySnapshotStore, RedisSnapshotStore
from flows.texts import Texts
from web.bootstrap import Container

_build_lock = threading.Lock()


def texts_for(container: Container) -> Texts:
    config = container.config
    return Texts(config.store.default_locale, {"zh_TW": config.texts.zh_TW, "en": config.texts.en})


def _binding_secret(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"chatcart:binding-codes", hashlib.sha256).digest()


def flow_runtime(container: Container) -> FlowRuntime:
    """The container's one ``FlowRuntime`` (made on first use, shared by router,
    sweepers and the binding API)."""
    with _build_lock:
        runtime = container.extras.get("flow_runtime")
        if runtime is None:
            runtime = _build(container)
            container.extras["flow_runtime"] = runtime
        return runtime


def _build(container: Container) -> FlowRuntime:
    config, client, keys = container.config, container.redis, KeyBuilder()
    limits = config.flows.binding
    texts = texts_for(container)
    codes = BindingCodeRegistry(client, _binding_secret(container.env.secret_key),
                                ttl_seconds=limits.code_ttl_minutes * 60,
                                clock=container.clock, keys=keys)
    attempts = AttemptLimiter(client, FailureLimit(
        max_failures=limits.wrong_attempts,
        window=timedelta(minutes=limits.wrong_attempts_window_minutes),
        lockout=timedelta(minutes=limits.lockout_minutes)), container.clock, keys=keys)
    cards = OrderCards(client, keys)
    checkout = config.checkout()
    services = FlowServices(
        orders=container.orders,
        bindings=BindingService(container.uow, container.clock),
        codes=codes, cards=cards, texts=texts,
        payment_methods=checkout.payment_by_code(),
        delivery_methods=checkout.delivery_by_code(),
        public_base_url=container.env.public_base_url,
        payment_deadline=timedelta(hours=config.orders.payment_deadline_hours),
        timezone=config.store.timezone,
    )
    registry = build_registry(texts, config.flows.proof_wait_minutes * 60)
    snapshots = RedisSnapshotStore(client, keys)
    container.extras["flow_snapshots"] = snapshots
    engine = FlowEngine(registry, snapshots, clock=container.clock, services=services)
    instant_store = MemorySnapshotStore()
    instant = FlowEngine(registry, instant_store, clock=container.clock, services=services)
    return FlowRuntime(engine, instant, instant_store, INSTANT_FLOWS, services,
                       RedisConversationLocks(client, keys), codes, attempts, cards,
                       IssueDetails(client, keys), container.admins.conversation_ids)


def snapshot_prefetch(container: Container) -> RedisSnapshotStore:
    """The waiting flows' snapshot store, which the inbox workers prefetch for."""
    flow_runtime(container)
    return container.extras["flow_snapshots"]


def issue_limiter(container: Container) -> RateLimiter:
    """Codes one visitor may ask for per hour (``flows.binding.codes_per_visitor_per_hour``)."""
    with _build_lock:
        limiter = container.extras.get("binding_issue_limiter")
        if limiter is None:
            limit = RateLimit(container.config.flows.binding.codes_per_visitor_per_hour,
                              timedelta(hours=1))
            limiter = RateLimiter(container.redis, limit, container.clock, keys=KeyBuilder())
            container.extras["binding_issue_limiter"] = limiter
        return limiter


def default_router(container: Container) -> ChatRouter:
    runtime = flow_runtime(container)
    checkout = container.config.checkout()
    deps = CommandDeps(
        admins=container.admins, conversations=container.conversations,
        customers=container.customers, orders=container.orders, catalog=container.catalog,
        bindings=runtime.services.bindings,
        cards=CardSender(container.order_links, runtime.cards, runtime.services),
        services=runtime.services,
        default_delivery=next(iter(checkout.delivery_by_code())),
        default_payment=next(iter(checkout.payment_by_code())),
    )
    return ChatRouter(
        runtime, CommandHandler(deps), conversations=container.conversations,
        orders=container.orders, clock=container.clock,
        auto_reply_interval=timedelta(minutes=container.config.flows.auto_reply_interval_minutes),
    )


def sweepers(container: Container) -> list[FlowSweeper | OrderExpirySweeper]:
    """The flow sweeper and the order-expiry sweeper, not yet started."""
    runtime = flow_runtime(container)
    notifier = container.chat.notifier
    interval = container.config.flows.sweep_interval_seconds
    return [FlowSweeper(runtime, container.conversations, notifier, interval=interval),
            OrderExpirySweeper(container.orders, notifier, runtime.services.texts,
                               interval=interval)]

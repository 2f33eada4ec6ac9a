"""Assembles the chat side (ingestion, outbox, sender, dispatcher, workers) over
the container's stores. Built on first use, since it needs Redis."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from bot.dispatcher import Dispatcher
from bot.inbox_worker import InboxWorker, Prefetch, WorkerPool
from bot.ingest import Ingestor
from bot.messages import Text
from bot.notifier import Notifier
from bot.outbox import Outbox
from bot.outbox_relay import OutboxRelay
from bot.quota import QuotaMonitor, QuotaStatus
from bot.routing import Router
from bot.sender import Sender
from bot.shared_wakeup import SharedWakeup
from commerce.errors import NotFound
from commerce.services.conversation_service import ConversationService, ConversationView
from flows.keys import KeyBuilder
from flows.locks import RedisConversationLocks


@dataclass
class ChatRuntime:
    keys: KeyBuilder
    ingestor: Ingestor
    locks: RedisConversationLocks
    outbox: Outbox
    sender: Sender
    dispatcher: Dispatcher
    notifier: Notifier
    quota: QuotaMonitor
    prefetch: Prefetch | None = None  # the waiting flows' snapshots, read with each event

    def worker(self, name: str, **options) -> InboxWorker:  # noqa: ANN003
        options.setdefault("prefetch", self.prefetch)
        return InboxWorker(self.ingestor.client, self.ingestor, self.locks,
                           self.dispatcher.handle, consumer=name, **options)


def build_chat(container, router: Router | None = None, *,  # noqa: ANN001
               key_prefix: str = "chatcart") -> ChatRuntime:
    client = container.redis
    keys = KeyBuilder(key_prefix)
    conversations: ConversationService = container.conversations
    outbox = Outbox(container.uow, client, keys)
    notifier_ref: list[Notifier] = []

    def notify_merchant(conv: ConversationView, text: str) -> None:
        if notifier_ref:
            notifier_ref[0].tell_admins([Text(f"{conv.label}：{text}")])

    def warn_quota(account: str, status: QuotaStatus) -> None:
        if notifier_ref:
            notifier_ref[0].tell_admins([Text(
                f"LINE 帳號 {account} 本月推播訊息已用 {status.used}/{status.limit}"
                f"（{status.percent:.0f}%），額度用完後將無法主動傳訊。")])

    quota = QuotaMonitor(client, keys, container.platforms, warn_quota,
                         warn_percent=container.config.channels.quota_warning_percent,
                         clock=container.clock)
    sender = Sender(outbox, container.platforms, conversations, client, keys,
                    notify_merchant=notify_merchant, on_push=quota.after_push,
                    clock=container.clock)
    notifier = Notifier(outbox, sender, conversations)
    notifier.admin_conversations = container.admins.conversation_ids
    notifier_ref.append(notifier)

    def still_applies(condition: dict) -> bool:
        try:
            order = container.orders.get(condition["order"])
        except (KeyError, NotFound):
            return False
        return order.status.value == condition.get("status", order.status.value)

    prefetch = None
    if router is None:
        from web.flow_wiring import default_router, snapshot_prefetch

        router = default_router(container)
        prefetch = snapshot_prefetch(container)
    dispatcher = Dispatcher(
        conversations, outbox, sender, router, container.platforms,
        container.media, still_applies=still_applies,
        max_media_bytes=container.config.channels.max_media_bytes,
    )
    return ChatRuntime(keys, Ingestor(client, keys), RedisConversationLocks(client, keys),
                       outbox, sender, dispatcher, notifier, quota, prefetch)


def worker_pool(container, threads: int = 4, **options) -> WorkerPool:  # noqa: ANN001, ANN003
    """The process's worker threads, sharing one wake-up (one blocking read of the
    announcements for all the idle ones: bot/shared_wakeup.py)."""
    host = socket.gethostname()
    chat = container.chat
    options.setdefault("wakeup", SharedWakeup())
    return WorkerPool(lambda n: chat.worker(f"{host}-{id(chat)}-{n}", **options), threads)


def relay(container) -> OutboxRelay:  # noqa: ANN001
    chat = container.chat
    return OutboxRelay(chat.outbox, chat.sender, chat.locks, container.conversations)

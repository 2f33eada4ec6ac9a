"""Background retries: delivers batches whose retry time has come, each under its
conversation's lock so a retry never overtakes a newer reply."""

from __future__ import annotations

import logging
import threading

from bot.outbox import Outbox
from bot.sender import Sender
from commerce.services.conversation_service import ConversationService
from flows.locks import ConversationLocks, LockTimeout

log = logging.getLogger("chatcart.relay")


class OutboxRelay:
    name = "outbox-relay"

    def __init__(self, outbox: Outbox, sender: Sender, locks: ConversationLocks,
                 conversations: ConversationService, *, interval: float = 0.25) -> None:
        self._outbox, self._sender, self._locks = outbox, sender, locks
        self._conversations = conversations
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        delivered = 0
        for batch_id in self._outbox.take_due():
            pending = self._outbox.load(batch_id)
            if pending is None:
                continue
            key = self._conversations.get(pending.batch.conversation_id).key
            try:
                with self._locks.acquire(key, timeout=5):
                    delivered += self._sender.deliver(batch_id) == "sent"
            except LockTimeout:
                self._outbox.schedule_retry(batch_id, 1.0)
        return delivered

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=self.name)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - keep retrying later
                log.exception("outbox relay iteration failed")

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

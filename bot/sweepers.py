"""Background jobs that act on time passing rather than on a message.

``FlowSweeper``: waits whose deadline passed while the customer stayed silent
(the expired wait is also caught on the customer's next message; the sweeper
makes sure the customer is told in time when it matters). It takes the same
per-conversation lock as the inbox workers, trying once: a conversation busy
right now is picked up by the next sweep.

``OrderExpirySweeper``: orders the customer never confirmed expire after the
configured time; their stock goes back on sale and the customer is told.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.flow_runner import FlowRuntime
from bot.messages import Text
from flows.locks import LockTimeout

log = logging.getLogger("chatcart.sweepers")


class _Periodic:
    """A daemon thread that calls ``run_once`` every ``interval`` seconds until stopped."""

    name = "periodic"

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        raise NotImplementedError

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - keep sweeping; the next round retries
                log.exception("%s round failed", self.name)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


class FlowSweeper(_Periodic):
    name = "flow-sweeper"

    def __init__(self, runtime: FlowRuntime, conversations: Any, notifier: Any, *,
                 interval: float = 5.0, batch: int = 100) -> None:
        super().__init__(interval)
        self._runtime, self._conversations, self._notifier = runtime, conversations, notifier
        self._batch = batch

    def run_once(self) -> int:
        """Time out every due wait it can lock now; returns how many it handled."""
        handled = 0
        for key in self._runtime.engine.sweep(limit=self._batch):
            try:
                with self._runtime.locks.acquire(key, timeout=0):
                    result = self._runtime.expire(key)
                    conversation_id = self._conversations.ensure(key).id
                    for reply in self._runtime.replies(result.messages, conversation_id):
                        self._notifier.send(reply.conversation_id, reply.messages,
                                            automated_update=not reply.internal,
                                            internal=reply.internal)
            except LockTimeout:
                continue
            handled += 1
        return handled


class OrderExpirySweeper(_Periodic):
    name = "order-expiry"

    def __init__(self, orders: Any, notifier: Any, texts: Any, *, interval: float = 5.0) -> None:
        super().__init__(interval)
        self._orders, self._notifier, self._texts = orders, notifier, texts

    def run_once(self) -> int:
        expired = self._orders.expire_due()
        for order in expired:
            if order.conversation_id is None:
                continue
            body = self._texts("訂單 {number} 已超過確認期限，系統已取消保留的商品。"
                               "如仍需要，請直接留言給我們。", number=order.number)
            self._notifier.send(order.conversation_id, [Text(body)], automated_update=True,
                                applies_if={"order": order.number,
                                            "status": order.status.value})
        return len(expired)

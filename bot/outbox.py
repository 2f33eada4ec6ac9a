"""The outbox: what we owe customers, durable until delivered.

A reply is an ``OutboundBatch``: the messages for one conversation, with what the
sender needs to choose a route (the LINE reply token and when it was issued,
whether a person wrote it, whether it is an automated update that may wait for
the customer). Each message becomes a ``queued`` row in the conversation history
in the same SQL transaction that marks the inbound event handled, so a crash
after that commit loses no reply and repeats none: the sender finishes what is
still queued. Batches whose delivery must be retried later sit in a Redis sorted
set scored by when they are due.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import redis
from sqlalchemy import bindparam, insert, select, update

from bot.group_commit import SharedWrites
from bot.messages import Message, message_from_dict
from commerce.conversations import ChatMessage
from commerce.services.uow import Rows, UnitOfWork
from flows.keys import KeyBuilder

#: Rows are read and written through the table, not the mapped class: these are
#: plain row reads and writes, and the ORM's per-object bookkeeping cost more than
#: the statements themselves on the worker's hot path.
_MESSAGES = ChatMessage.__table__
_COLUMNS = (_MESSAGES.c.id, _MESSAGES.c.conversation_id, _MESSAGES.c.payload,
            _MESSAGES.c.status)
_MARK = (update(_MESSAGES).where(_MESSAGES.c.id == bindparam("row_id"))
         .values(status=bindparam("new_status"), error=bindparam("new_error")))
_MARK_SENT = (update(_MESSAGES).where(_MESSAGES.c.id == bindparam("row_id"))
              .values(status="sent", error=bindparam("new_error"),
                      sent_at=bindparam("sent_time", type_=_MESSAGES.c.sent_at.type),
                      platform_message_id=bindparam("platform_id")))
_INSERT_ROWS = insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True)
#: A batch is looked up by its rows' exact outbox ids (``<batch>:<index>``), which the
#: unique index answers; only a batch this long or longer needs the prefix scan.
_EXACT_PARTS = 8


@dataclass(frozen=True)
class OutboundBatch:
    conversation_id: int
    messages: tuple[Message, ...]
    reply_token: str | None = None
    reply_token_at: datetime | None = None
    human: bool = False
    automated_update: bool = False
    applies_if: dict | None = None
    internal: bool = False
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def meta(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "reply_token": self.reply_token,
            "reply_token_at": self.reply_token_at.isoformat() if self.reply_token_at else None,
            "human": self.human,
            "automated_update": self.automated_update,
            "applies_if": self.applies_if,
            "internal": self.internal,
        }


@dataclass
class PendingBatch:
    """A batch loaded back from SQL with the ids and statuses of its rows."""

    batch: OutboundBatch
    row_ids: list[int]
    statuses: list[str]


def _kind(message: Message) -> str:
    return type(message).__name__.lower()


def _text_of(message: Message) -> str:
    for name in ("text", "title", "alt_text"):
        value = getattr(message, name, None)
        if value:
            return str(value)
    return ""


class Outbox:
    def __init__(self, uow: UnitOfWork, client: redis.Redis, keys: KeyBuilder) -> None:
        self._uow = uow
        self._redis = client
        self.due_key = keys.build("outbox:due")
        #: The process's short writes of outbox rows (a turn's event with its
        #: replies, ``sent`` marks, notices) share transactions: see SharedWrites.
        self.writes = SharedWrites(uow)

    def enqueue(self, batches: Sequence[OutboundBatch]) -> list[PendingBatch]:
        """Persist batches on their own (replies to an inbound event are written with
        it instead: ``rows`` and ``written``)."""
        part = self.rows(batches)
        if part is None:
            return []
        [ids] = self.writes.run_rows(part)
        return self.written(batches, ids)

    def rows(self, batches: Sequence[OutboundBatch]) -> Rows | None:
        """The write of ``batches`` as queued rows, for the caller's transaction
        (None when they hold no message). It returns the rows' ids in order."""
        params = [
            {"conversation_id": batch.conversation_id, "direction": "out",
             "kind": _kind(message), "text": _text_of(message)[:2000],
             "payload": {"message": message.to_dict(), "batch": batch.meta(), "index": index},
             "outbox_id": f"{batch.batch_id}:{index}", "status": "queued",
             "written_by_human": batch.human, "error": ""}
            for batch in batches for index, message in enumerate(batch.messages)
        ]
        return Rows(_INSERT_ROWS, params) if params else None

    def written(self, batches: Sequence[OutboundBatch], ids: Sequence[int]
                ) -> list[PendingBatch]:
        """``batches`` as the sender takes them, once ``rows`` wrote them with
        ``ids``: a batch just written need not be read back."""
        row_ids = iter(ids)
        return [PendingBatch(batch, [next(row_ids) for _ in batch.messages],
                             ["queued"] * len(batch.messages))
                for batch in batches if batch.messages]

    def load(self, batch_id: str) -> PendingBatch | None:
        self.writes.settle()  # a sent mark on its way must not look unsent
        exact = [f"{batch_id}:{index}" for index in range(_EXACT_PARTS)]
        with self._uow.read() as session:
            rows = session.execute(select(*_COLUMNS).where(_MESSAGES.c.outbox_id.in_(exact))
                                   .order_by(_MESSAGES.c.id)).all()
            if len(rows) == _EXACT_PARTS:
                rows = session.execute(
                    select(*_COLUMNS).where(_MESSAGES.c.outbox_id.like(f"{batch_id}:%"))
                    .order_by(_MESSAGES.c.id)).all()
            return _pending(rows) if rows else None

    def open_batches(self, conversation_id: int, statuses: tuple[str, ...] = ("queued",)
                     ) -> list[PendingBatch]:
        """Batches of a conversation with rows in ``statuses``, oldest first."""
        self.writes.settle()  # a sent mark on its way must not look unsent
        with self._uow.read() as session:
            rows = session.execute(
                select(*_COLUMNS).where(
                    _MESSAGES.c.conversation_id == conversation_id,
                    _MESSAGES.c.direction == "out", _MESSAGES.c.status.in_(statuses))
                .order_by(_MESSAGES.c.id)
            ).all()
        groups: dict[str, list] = {}
        for row in rows:
            groups.setdefault(row.payload["batch"]["batch_id"], []).append(row)
        return [_pending(group) for group in groups.values()]

    def set_status(self, row_ids: Sequence[int], status: str, *, error: str = "",
                   platform_ids: Sequence[str] = ()) -> None:
        """``platform_ids`` are the platform's ids of the sent messages, in row order."""
        if not row_ids:
            return
        if status == "sent":
            self.mark_sent([(row_ids, platform_ids)], error=error)
            return
        params = [{"row_id": row_id, "new_status": status, "new_error": error[:300]}
                  for row_id in row_ids]
        with self._uow() as session:
            session.execute(_MARK, params)

    def mark_sent(self, batches: Sequence[tuple[Sequence[int], Sequence[str]]], *,
                  error: str = "", wait: bool = True) -> None:
        """Mark the rows of several sent batches (row ids with the platform's ids of
        their messages, in row order), in a transaction shared with other threads'
        outbox writes. ``wait=False``: return before that commits when another
        thread is about to write it (``SharedWrites.run_rows_detached``)."""
        now = datetime.now(timezone.utc)
        params = []
        for row_ids, platform_ids in batches:
            ids = list(platform_ids)[:len(row_ids)]
            ids += [None] * (len(row_ids) - len(ids))
            params += [{"row_id": row_id, "new_error": error[:300], "sent_time": now,
                        "platform_id": platform_id}
                       for row_id, platform_id in zip(row_ids, ids, strict=True)]
        if not params:
            return
        if wait:
            self.writes.run_rows(Rows(_MARK_SENT, params))
        else:
            self.writes.run_rows_detached(Rows(_MARK_SENT, params))

    def schedule_retry(self, batch_id: str, delay_seconds: float) -> None:
        self._redis.zadd(self.due_key, {batch_id: time.time() + delay_seconds})

    def take_due(self, limit: int = 20) -> list[str]:
        """Batch ids whose retry time has come; each is handed to one caller only."""
        now = time.time()
        taken: list[str] = []
        for member in self._redis.zrangebyscore(self.due_key, "-inf", now, start=0, num=limit):
            if self._redis.zrem(self.due_key, member):
                taken.append(member.decode())
        return taken


def _pending(rows: Sequence) -> PendingBatch:
    """``rows`` have the ``_COLUMNS`` of one batch's messages, in id order."""
    meta = rows[0].payload["batch"]
    at = meta.get("reply_token_at")
    batch = OutboundBatch(
        conversation_id=rows[0].conversation_id,
        messages=tuple(message_from_dict(r.payload["message"]) for r in rows),
        reply_token=meta.get("reply_token"),
        reply_token_at=datetime.fromisoformat(at) if at else None,
        human=meta.get("human", False), automated_update=meta.get("automated_update", False),
        applies_if=meta.get("applies_if"), internal=meta.get("internal", False),
        batch_id=meta["batch_id"],
    )
    return PendingBatch(batch, [r.id for r in rows], [r.status for r in rows])

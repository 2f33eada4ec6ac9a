"""Redis memory per idle conversation, after many conversations went through chatcart.

Realistic scenario: ``conversations`` distinct customers each write once and get
their reply through the real path (webhook, worker, sender), in chunks paced so
that the backlog never outlives a reply token. When every reply arrived and the
workers are idle, the growth of ``used_memory`` (``INFO memory``) is divided by
the conversations, and a census of the keys left (``SCAN`` + ``MEMORY USAGE`` on
a sample of each kind) shows what each idle conversation still holds and for how
long (TTL). A time budget bounds the run; if it runs out, the figure is taken at
the conversations reached and says so.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict

from benchmarks import loadgen, payloads
from benchmarks.contenders import WEBHOOK_PATH
from benchmarks.infra import Infra
from benchmarks.procs import wait_until

CHUNK = 2_000
MAX_BACKLOG = 4_000  # replies owed; at a few hundred turns per second, well under 50 s
FIRST_USER = 1_000_000  # away from the users of the other phases
_ID = re.compile(r"(U[0-9a-f]{32}|[0-9a-f]{32}|rt[0-9A-Za-z]+-\d+|01[0-9A-Za-z]{24}|\d+)")


def kind_of(key: bytes) -> str:
    """``chatcart:inbound:seen:line:01...`` -> ``chatcart:inbound:seen:line:*``."""
    return _ID.sub("*", key.decode(errors="replace"))


def census(infra: Infra, sample: int = 200) -> dict[str, dict]:
    kinds: dict[str, list[bytes]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for key in infra.redis.scan_iter(count=1000):
        kind = kind_of(key)
        counts[kind] += 1
        if len(kinds[kind]) < sample:
            kinds[kind].append(key)
    out = {}
    for kind, keys in kinds.items():
        sizes = [infra.redis.memory_usage(k, samples=0) or 0 for k in keys]
        ttls = [infra.redis.ttl(k) for k in keys]
        out[kind] = {"keys": counts[kind], "bytes_each": sum(sizes) / len(sizes),
                     "type": infra.redis.type(keys[0]).decode(),
                     "ttl_s": max(ttls) if ttls else -1}
    return dict(sorted(out.items(), key=lambda item: -item[1]["keys"]))


def _used(infra: Infra) -> int:
    return int(infra.redis.info("memory")["used_memory"])


def measure(infra: Infra, port: int, conversations: int, *, budget_s: float = 480.0) -> dict:
    before = _used(infra)
    keys_before = infra.redis.dbsize()
    started = time.monotonic()
    infra.fake.reset()
    sent = 0
    while sent < conversations and time.monotonic() - started < budget_s:
        count = min(CHUNK, conversations - sent)
        hooks = [payloads.webhook("mem", sent + n, FIRST_USER + sent + n) for n in range(count)]
        result = loadgen.drive(port, WEBHOOK_PATH, hooks, concurrency=16, timeout=120)
        sent += result.ok
        owed = sent - MAX_BACKLOG
        wait_until(lambda owed=owed: infra.fake.stats()["reply"] >= owed, 120,
                   "the workers to catch up", interval=0.1)
        if sent % 20_000 < CHUNK:
            rate = infra.fake.stats()["reply"] / (time.monotonic() - started)
            print(f"    {sent:,} conversations sent, {rate:,.0f} turns/s", flush=True)
    wait_until(lambda: infra.fake.stats()["reply"] >= sent, 300, "the last replies")
    elapsed = time.monotonic() - started
    wait_until(lambda: not infra.redis.keys("*:inbound:mailbox:*"), 60, "empty mailboxes")
    time.sleep(1.0)
    after = _used(infra)
    stats = infra.fake.stats()
    return {
        "conversations": sent, "target_conversations": conversations,
        "complete": sent >= conversations,
        "bytes_per_conversation": (after - before) / sent if sent else 0.0,
        "used_memory_before": before, "used_memory_after": after,
        "keys_before": keys_before, "keys_after": infra.redis.dbsize(),
        "pushes": stats["push"], "replies": stats["reply"],
        "seconds": elapsed, "turns_per_s": sent / elapsed if elapsed else 0.0,
        "keys": census(infra),
    }

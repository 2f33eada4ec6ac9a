"""Redis memory per idle conversation, after many conversations went through chatcart.

Scenario: distinct customers each write an ordinary message and get the shop's
auto-reply through the real path (webhook, worker, flows router, sender), in
chunks paced so that the backlog never outlives a reply token. When every reply
has arrived and the workers are idle, a census of the keys left (``SCAN`` +
``MEMORY USAGE`` on a sample of each kind, with TTLs) shows what an idle
conversation still holds.

chatcart turns about a hundred conversations a second on this machine, so
100,000 through the full path would take a quarter of an hour. The real path
runs for ``real`` conversations; then every per-conversation key it left is
copied byte for byte (``DUMP``/``RESTORE``, same TTL, a name of the same length)
until the store holds ``conversations`` conversations' worth, and the growth of
``used_memory`` (``INFO memory``) over the whole run is divided by that number.
Both figures are reported.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict

from benchmarks import loadgen, payloads
from benchmarks.contenders import WEBHOOK_PATH, Running
from benchmarks.infra import Infra
from benchmarks.procs import wait_until

GREETING = "你好，請問這款還有現貨嗎？"
CHUNK = 1_000
MAX_BACKLOG = 2_000  # replies owed; at ~100 turns per second, well under 50 s
FIRST_USER = 1_000_000  # away from the users of the other phases
_ID = re.compile(r"(S[0-9a-f]{3,}$|U[0-9a-f]{32}|[0-9a-f]{32}|rt[0-9A-Za-z]+-\d+"
                 r"|01[0-9A-Za-z]{24}|\d+)")


def kind_of(key: bytes) -> str:
    """``chatcart:inbound:seen:line:01...`` -> ``chatcart:inbound:seen:line:*``
    (copies made by ``_scale_up`` end in ``S<hex>`` and fall in their original's kind)."""
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
                     "ttl_s": max(ttls) if ttls else -1, "sample": keys[0].decode()}
    return dict(sorted(out.items(), key=lambda item: -item[1]["keys"]))


def _used(infra: Infra) -> int:
    return int(infra.redis.info("memory")["used_memory"])


def _fill(infra: Infra, running: Running, count: int, budget_s: float) -> int:
    """Send ``count`` first messages from new customers; returns how many were acked."""
    infra.fake.reset()
    started = time.monotonic()
    sent = 0
    while sent < count and time.monotonic() - started < budget_s:
        chunk = min(CHUNK, count - sent)
        hooks = [payloads.webhook("mem", sent + n, FIRST_USER + sent + n, GREETING)
                 for n in range(chunk)]
        sent += loadgen.drive(running.port, WEBHOOK_PATH, hooks, concurrency=16,
                              timeout=120).ok
        owed = sent - MAX_BACKLOG
        wait_until(lambda owed=owed: infra.fake.stats()["reply"] >= owed, 120,
                   "the workers to catch up", interval=0.1)
    wait_until(lambda: infra.fake.stats()["reply"] >= sent, 300, "the last replies")
    wait_until(lambda: not any(infra.redis.scan_iter(match="*:inbound:mailbox:*", count=1000)),
               60, "empty mailboxes")
    return sent


def _synthetic(sample: str, n: int) -> str:
    """``sample`` with its id replaced by a distinct one of the same length."""
    match = list(_ID.finditer(sample))[-1]
    width = match.end() - match.start()
    return f"{sample[:match.start()]}S{n:0{width - 1}x}{sample[match.end():]}"


def _scale_up(infra: Infra, kinds: dict[str, dict], real: int, target: int) -> None:
    """Copy each per-conversation key kind until ``target`` conversations are held."""
    for info in kinds.values():
        if info["keys"] < real // 2:
            continue  # singletons (the ready stream) and rare keys do not scale
        copies = round((target - real) * info["keys"] / real)
        blob = infra.redis.dump(info["sample"])
        ttl = max(infra.redis.pttl(info["sample"]), 0)
        for start in range(0, copies, 1_000):
            pipe = infra.redis.pipeline(transaction=False)
            for n in range(start, min(start + 1_000, copies)):
                pipe.restore(_synthetic(info["sample"], n), ttl, blob)
            pipe.execute()


def measure(infra: Infra, running: Running, conversations: int, *, real: int = 3_000,
            budget_s: float = 120.0) -> dict:
    before = _used(infra)
    started = time.monotonic()
    sent = _fill(infra, running, min(real, conversations), budget_s)
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    after_real = _used(infra)
    real_census = census(infra)
    stats = infra.fake.stats()
    result = {
        "real_conversations": sent, "conversations": sent,
        "real_bytes_per_conversation": (after_real - before) / sent if sent else 0.0,
        "seconds": elapsed, "turns_per_s": sent / elapsed if elapsed else 0.0,
        "pushes": stats["push"], "replies": stats["reply"], "real_keys": real_census,
        "used_memory_before": before, "used_memory_after_real": after_real,
    }
    if conversations > sent and sent:
        _scale_up(infra, real_census, sent, conversations)
        result["conversations"] = conversations
        result["used_memory_after"] = _used(infra)
        result["keys"] = census(infra)
    else:
        result["used_memory_after"] = after_real
        result["keys"] = real_census
    result["bytes_per_conversation"] = ((result["used_memory_after"] - before)
                                        / result["conversations"] if sent else 0.0)
    return result

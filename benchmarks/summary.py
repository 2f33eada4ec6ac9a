"""The printed summary: each figure, the ratios measured in this invocation, and
each target of issue 7 met or missed by how much."""

from __future__ import annotations

from pathlib import Path

from benchmarks.report import fmt, print_table, ratio, verdict, write_json

TARGETS = {
    "ingest_share_of_floor": 0.70,
    "ingest_p99_ms": 10.0,
    "e2e_0ms_vs_peer_threaded": 1.0,
    "e2e_20ms_vs_peer_sync": 10.0,
    "e2e_20ms_vs_peer_threaded": 1.5,
    "redis_roundtrips_per_event": 3.0,
    "redis_bytes_per_idle_conversation": 1024.0,
    "pricing_quote_median_ms": 2.0,
}


def _costs(contender: str, cpu: dict[str, float], switches: dict[str, float] | None
           ) -> tuple[str, str, str]:
    """Total CPU ms and context switches per item, and each process group's share
    (results written before switches were counted show none)."""
    def short(group: str) -> str:
        return "app" if group == contender else group.removeprefix(contender + "-")

    def count(group: str) -> str:
        return f"{switches[group]:.1f}" if switches else "n/a"

    parts = ", ".join(f"{short(group)} {ms:.3f} / {count(group)}" for group, ms in cpu.items())
    total = f"{sum(switches.values()):.1f}" if switches else "n/a"
    return f"{sum(cpu.values()):.3f}", total, parts


def _ingest(results: dict, checks: list) -> None:
    data = results["ingest"]
    rows = [("contender", "acks/s median (min-max)", "p50 ms", "p99 ms")]
    for name, figure in data.items():
        rows.append((name, fmt(figure["acks_per_s"]), fmt(figure["p50_ms"], digits=2),
                     fmt(figure["p99_ms"], digits=2)))
    print_table("Ingest: 16 connections, distinct signed webhooks from 256 users", rows)
    rows = [("contender", "CPU ms / ack", "switches / ack", "by process: CPU ms / switches")]
    for name, figure in data.items():
        rows.append((name, *_costs(name, figure["cpu_ms_per_ack"],
                                   figure.get("switches_per_ack"))))
    print_table("Ingest: cost per acknowledged webhook (medians)", rows)
    if "floor" in data and "chatcart" in data:
        share = ratio(data["chatcart"]["acks_per_s"], data["floor"]["acks_per_s"])
        checks.append(("ingest: chatcart / floor", f"{share:.2f}",
                       f">= {TARGETS['ingest_share_of_floor']:.2f}",
                       verdict(share, TARGETS["ingest_share_of_floor"])))
        p99 = data["chatcart"]["p99_ms"]["median"]
        checks.append(("ingest: chatcart p99 ack", f"{p99:.2f} ms",
                       f"<= {TARGETS['ingest_p99_ms']:g} ms",
                       verdict(p99, TARGETS["ingest_p99_ms"], higher_is_better=False)))


def _e2e(results: dict, checks: list) -> None:
    data = results["e2e"]
    rows = [("contender", "delay", "turns/s median (min-max)", "turn p50 ms", "turn p99 ms")]
    for name, by_delay in data.items():
        if name == "generator":
            continue
        for delay, figure in by_delay.items():
            rows.append((name, delay, fmt(figure["turns_per_s"]), fmt(figure["p50_ms"], digits=1),
                         fmt(figure["p99_ms"], digits=1)))
    print_table("End to end: signed webhook -> reply received by the fake platform", rows)
    rows = [("contender", "delay", "CPU ms / turn", "switches / turn",
             "by process: CPU ms / switches")]
    for name, by_delay in data.items():
        if name == "generator":
            continue
        for delay, figure in by_delay.items():
            rows.append((name, delay, *_costs(name, figure["cpu_ms_per_turn"],
                                              figure.get("switches_per_turn"))))
    print_table("End to end: cost per turn (medians; context switches of every thread)", rows)
    if "generator" in data:
        print(f"  (the Python generator alone drives "
              f"{data['generator']['null_server_requests_per_s']:,.0f} requests/s)")
    chatcart = data.get("chatcart", {})
    for delay, peer, key in (("0ms", "peer-threaded", "e2e_0ms_vs_peer_threaded"),
                             ("0ms", "peer-sync", None),
                             ("20ms", "peer-sync", "e2e_20ms_vs_peer_sync"),
                             ("20ms", "peer-threaded", "e2e_20ms_vs_peer_threaded")):
        if delay not in chatcart or delay not in data.get(peer, {}):
            continue
        value = ratio(chatcart[delay]["turns_per_s"], data[peer][delay]["turns_per_s"])
        target = TARGETS.get(key) if key else None
        checks.append((f"end to end @ {delay}: chatcart / {peer}", f"{value:.2f} x",
                       f">= {target:g} x" if target else "(context)",
                       verdict(value, target) if target else ""))


def report(results: dict) -> None:
    checks: list[tuple[str, str, str, str]] = []
    if "ingest" in results:
        _ingest(results, checks)
    if "e2e" in results:
        _e2e(results, checks)
    if "roundtrips" in results:
        data = results["roundtrips"]
        rows = [("process", "round trips / event", "top commands / event")]
        for role, figure in data["by_process"].items():
            top = ", ".join(f"{k} {v:g}" for k, v in list(figure["commands_per_event"].items())[:6])
            rows.append((role, f"{figure['roundtrips_per_event']:.2f}", top))
        print_table("Redis round trips per inbound event (hot path, amortised)", rows)
        value = data["roundtrips_per_event"]
        checks.append(("redis round trips / event", f"{value:.2f}",
                       f"<= {TARGETS['redis_roundtrips_per_event']:g}",
                       verdict(value, TARGETS["redis_roundtrips_per_event"],
                               higher_is_better=False)))
    if "memory" in results:
        data = results["memory"]
        rows = [("key kind", "keys", "bytes each", "ttl s")]
        for kind, info in list(data["keys"].items())[:8]:
            rows.append((kind, f"{info['keys']:,}", f"{info['bytes_each']:.0f}",
                         str(info["ttl_s"])))
        print_table(f"Redis with {data['conversations']:,} idle conversations "
                    f"({data['real_conversations']:,} through chatcart at "
                    f"{data['turns_per_s']:.0f} turns/s: "
                    f"{data['real_bytes_per_conversation']:.0f} B each)", rows)
        value = data["bytes_per_conversation"]
        checks.append(("redis bytes / idle conversation", f"{value:.0f} B",
                       f"<= {TARGETS['redis_bytes_per_idle_conversation']:g} B",
                       verdict(value, TARGETS["redis_bytes_per_idle_conversation"],
                               higher_is_better=False)))
    if "pricing" in results:
        rows = [("rule set", "ms per quote median (min-max)")]
        for name, figure in results["pricing"].items():
            rows.append((name, f"{figure['median_ms']:.2f} ({figure['min_ms']:.2f}-"
                               f"{figure['max_ms']:.2f})"))
        print_table("Pricing: 50 lines, 10 promotions, a coupon, store credit", rows)
        for name, figure in results["pricing"].items():
            checks.append((f"pricing quote ({name})", f"{figure['median_ms']:.2f} ms",
                           f"<= {TARGETS['pricing_quote_median_ms']:g} ms",
                           verdict(figure["median_ms"], TARGETS["pricing_quote_median_ms"],
                                   higher_is_better=False)))
    if checks:
        print_table("Targets (issue 7)", [("figure", "value", "target", "verdict"), *checks])
    results["targets"] = [dict(zip(("figure", "value", "target", "verdict"), c, strict=True))
                          for c in checks]
    if "seconds" in results:
        print(f"\ntotal time {results['seconds']:.0f} s")


def save(results: dict, path: Path) -> None:
    write_json(path, results)

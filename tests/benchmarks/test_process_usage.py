"""What the benchmark reads from /proc for each process group (CPU seconds and
context switches), and how it prints the cost per turn."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from benchmarks.procs import Usage, group_usage
from benchmarks.report import cpu_per_item, median_by_group, per_item
from benchmarks.summary import report

HANDOFFS = 400

# Two threads hand a token back and forth: every hand-off puts one to sleep and
# wakes the other, a voluntary context switch at least, in a thread other than
# the main one (so a count of the main thread alone would miss them). They stay
# alive until told to end: the kernel's count goes with a thread that ends.
PING_PONG = textwrap.dedent(f"""
    import sys, threading
    ping, pong, end = threading.Event(), threading.Event(), threading.Event()
    played = threading.Barrier(3)

    def player(mine, other):
        for _ in range({HANDOFFS}):
            mine.wait(); mine.clear(); other.set()
        played.wait()
        end.wait()

    sys.stdin.readline()
    threads = [threading.Thread(target=player, args=(ping, pong)),
               threading.Thread(target=player, args=(pong, ping))]
    for t in threads:
        t.start()
    ping.set()
    played.wait()
    print("done", flush=True)
    sys.stdin.readline()
    end.set()
""")


@pytest.fixture
def ping_pong():
    child = subprocess.Popen([sys.executable, "-c", PING_PONG], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield child
    finally:
        child.kill()
        child.wait(timeout=10)


def test_switches_of_every_thread_of_the_group_are_counted(ping_pong):
    before = group_usage(ping_pong.pid).switches
    ping_pong.stdin.write("go\n")
    ping_pong.stdin.flush()
    assert ping_pong.stdout.readline().strip() == "done"
    after = group_usage(ping_pong.pid).switches
    assert after - before >= HANDOFFS


def test_a_group_without_live_processes_counts_nothing(ping_pong):
    ping_pong.kill()
    ping_pong.wait(timeout=10)
    assert group_usage(ping_pong.pid) == Usage(0.0, 0)


def test_counts_per_item_and_their_medians():
    runs = [{"switches_per_turn": per_item({"web": 100, "redis": 10},
                                                 {"web": 612, "redis": 30}, 256)},
            {"switches_per_turn": per_item({"web": 0}, {"web": 1024, "redis": 256}, 256)},
            {"switches_per_turn": {"web": 3.0, "redis": 0.5}}]
    assert runs[0]["switches_per_turn"] == {"web": 2.0, "redis": 0.08}
    assert runs[1]["switches_per_turn"] == {"web": 4.0, "redis": 1.0}
    assert median_by_group(runs, "switches_per_turn") == {"web": 3.0, "redis": 0.5}
    assert per_item({"web": 1}, {"web": 2}, 0) == {}
    assert cpu_per_item({"web": 1.0}, {"web": 1.512}, 512) == {"web": 1.0}  # ms per item


def _figure(turns_per_s: float, cpu: dict, switches: dict | None) -> dict:
    figure = {"turns_per_s": {"median": turns_per_s, "min": turns_per_s, "max": turns_per_s},
              "p50_ms": {"median": 1.0, "min": 1.0, "max": 1.0},
              "p99_ms": {"median": 2.0, "min": 2.0, "max": 2.0},
              "cpu_ms_per_turn": cpu}
    if switches is not None:
        figure["switches_per_turn"] = switches
    return figure


def test_the_summary_prints_cost_per_turn_by_process(capsys):
    results = {"e2e": {
        "chatcart": {"0ms": _figure(1000, {"chatcart-e2e-web": 0.25, "redis": 0.1},
                                    {"chatcart-e2e-web": 9.5, "redis": 2.0})},
        # written before switches were counted
        "peer-threaded": {"0ms": _figure(1200, {"peer-threaded": 0.9}, None)},
    }}
    report(results)
    lines = capsys.readouterr().out.splitlines()
    chatcart = next(line for line in lines if line.strip().startswith("chatcart  ")
                    and "0.350" in line)
    assert "11.5" in chatcart
    assert "e2e-web 0.250 / 9.5, redis 0.100 / 2.0" in chatcart
    peer = next(line for line in lines if "peer-threaded" in line and "0.900" in line)
    assert "app 0.900 / n/a" in peer
    assert any("chatcart / peer-threaded" in line and "0.83 x" in line for line in lines)

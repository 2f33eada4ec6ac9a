"""benchmarks.redis_probe counts round trips as the figure defines them: a command
alone is one, a pipeline or commands sent together on a thread's connection is one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks.redis_probe import read_counts


def test_commands_sent_together_count_as_one_round_trip(redis_url, tmp_path: Path):
    script = textwrap.dedent(f"""
        import time
        from benchmarks.redis_probe import install
        install({str(tmp_path)!r}, "worker")
        from flows.redis_client import make_redis
        client = make_redis({redis_url!r})
        client.send_together(("PING",), ("ECHO", "x"))
        client.ping()
        pipe = client.pipeline(transaction=False)
        pipe.ping()
        pipe.ping()
        pipe.execute()
        time.sleep(0.4)  # the counts are written every 100 ms
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60,
                   cwd=Path(__file__).resolve().parents[2])
    counts = read_counts(tmp_path)["worker"]
    assert counts["roundtrips"] == 3
    assert dict(counts["commands"]) == {"PING": 1}
    assert dict(counts["in_pipeline"]) == {"PING": 3, "ECHO": 1}

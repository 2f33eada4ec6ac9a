"""The benchmark's fake LINE API: answers replies on a kept connection and stops
cleanly on SIGTERM even with clients still connected."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_replies_are_answered_and_sigterm_stops_it_quietly():
    port = _free_port()
    fake = subprocess.Popen([sys.executable, "-m", "benchmarks.fake_line", "--port", str(port),
                             "--max-seconds", "60"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the fake never listened"
                time.sleep(0.05)
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                       for _ in range(3)]
        for number, connection in enumerate(connections):
            body = json.dumps({"replyToken": f"t{number}", "messages": []})
            connection.request("POST", "/v2/bot/message/reply", body=body)
            answer = connection.getresponse()
            assert answer.status == 200
            assert json.loads(answer.read())["sentMessages"]
        fake.send_signal(signal.SIGTERM)  # the three connections are still open
        _, err = fake.communicate(timeout=30)
        assert fake.returncode == 0
        assert "Traceback" not in err and "Exception in callback" not in err
        for connection in connections:
            connection.close()
    finally:
        if fake.poll() is None:
            fake.kill()
            fake.wait(10)

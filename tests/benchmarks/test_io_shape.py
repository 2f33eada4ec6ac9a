"""benchmarks.io_shape drives the same turns with threads and with a loop: every mode
must do every turn's I/O (a reply at the fake API, the message written, the reply
marked sent), or its CPU per turn would measure less work."""

from __future__ import annotations

import json

from benchmarks import io_shape


def test_every_mode_does_every_turn(capsys):
    assert io_shape.main(["--turns", "60", "--concurrency", "4", "--reps", "1"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["mode"] for r in results] == list(io_shape.MODES)
    for result in results:
        assert (result["turns"], result["replies_received"], result["written"],
                result["sent"]) == (60, 60, 60, 60), result
        assert result["cpu_us_per_turn"] > 0

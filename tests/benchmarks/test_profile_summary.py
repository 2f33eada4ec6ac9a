"""benchmarks.profile reads py-spy's collapsed stacks, whose frame names may hold
newlines (a redis-py Script is named after its Lua source)."""

from pathlib import Path

from benchmarks.profile import _stacks, summarize

RAW = (
    "main (app.py:1);work (app.py:5) 3\n"
    "main (app.py:1);<Script 9f2c (\nlocal x = 1\nreturn x\n) (redis/core.py:10) 2\n"
    "main (app.py:1) 5\n"
)


def test_an_entry_whose_frame_name_spans_lines_is_read_whole():
    entries = _stacks(RAW)
    assert [n for _, n in entries] == [3, 2, 5]
    assert entries[1][0].startswith("main (app.py:1);<Script 9f2c ( local x = 1")


def test_the_summary_counts_every_sample(tmp_path: Path):
    raw = tmp_path / "worker.txt"
    raw.write_text(RAW)
    text = summarize(raw)
    assert text.startswith("10 samples")
    assert "100.0% main (app.py)" in text
    assert " 30.0% work (app.py)" in text

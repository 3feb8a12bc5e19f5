"""tools/protocol_check.py, which judges the container smoke test's output, fails when it should."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "protocol_check.py"


def read_check(tmp_path, counts):
    catalog = {"streams": [{"stream": {"name": name}} for name in counts]}
    lines = []
    for name, count in counts.items():
        lines += [{"type": "RECORD", "record": {"stream": name, "data": {"id": i}, "emitted_at": 0}} for i in range(count)]
        lines.append({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}}}})
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    (tmp_path / "read.out").write_text("\n".join(json.dumps(line) for line in lines))
    return subprocess.run(
        [sys.executable, str(SCRIPT), "read", str(tmp_path / "read.out"), str(tmp_path / "catalog.json")],
        capture_output=True,
        text=True,
    )


def test_a_stream_without_records_fails_the_read_check(tmp_path):
    done = read_check(tmp_path, {"uis_calls": 3, "ria_calls": 0})
    assert done.returncode != 0
    assert "no records for ['ria_calls']" in done.stdout + done.stderr


def test_the_documented_empty_streams_may_be_empty(tmp_path):
    done = read_check(tmp_path, {"uis_calls": 3, "uis_sales": 0, "uis_api_requests": 0})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("read: uis_calls=3, uis_sales=0, uis_api_requests=0 records; 3 state messages")

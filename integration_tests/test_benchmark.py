"""The benchmark still runs: tiny volumes, one command, a table with every provider's main stream.
Nothing here is timed; the request counts it prints must equal the minimum."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_prints_a_table_of_every_provider():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--records", "2000", "--large", "3000", "--latency", "0.01",
         "--latency-records", "40", "--latency-start", "2024-01-01"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PROBLEM" not in done.stdout
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in done.stdout.splitlines() if line.startswith("| ") and "_calls" in line}
    assert set(rows) == {"uis_calls", "calltracking_calls", "callkeeper_calls", "ria_calls"}
    for stream, cells in rows.items():
        spent, minimum = re.fullmatch(r"(\d+) / (\d+)", cells[5]).groups()
        assert spent == minimum, (stream, cells)
        assert float(cells[1].replace(",", "")) > 0 and float(cells[2]) > 0  # raw loop ran, ratio printed

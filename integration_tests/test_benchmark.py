"""The benchmark still runs: tiny volumes, one command, a table with every provider's main stream.
Nothing here is timed; the request counts it prints must equal the minimum."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def benchmark_table(**env):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--records",
            "2000",
            "--large",
            "3000",
            "--latency",
            "0.01",
            "--latency-records",
            "40",
            "--latency-start",
            "2024-01-01",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PROBLEM" not in done.stdout  # every run emitted exactly the records the emulator holds
    return {
        line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and "_calls" in line
    }


def test_the_benchmark_prints_a_table_of_every_provider_with_the_cdk_speedups_on_and_off():
    """The benchmark's checks (every record once, the minimum of requests) hold with the speed-ups of
    cdk_speedups.py on and with CALLTRACKING_CDK_SPEEDUPS=off, and both spend the same requests."""
    tables = {mode: benchmark_table(CALLTRACKING_CDK_SPEEDUPS=mode) for mode in ("on", "off")}
    for mode, rows in tables.items():
        assert set(rows) == {"uis_calls", "calltracking_calls", "callkeeper_calls", "ria_calls"}, mode
        for stream, cells in rows.items():
            spent, minimum = re.fullmatch(r"(\d+) / (\d+)", cells[5]).groups()
            assert spent == minimum, (mode, stream, cells)
            assert float(cells[1].replace(",", "")) > 0 and float(cells[2]) > 0  # raw loop ran, ratio printed
    for stream in tables["on"]:
        assert tables["on"][stream][5:7] == tables["off"][stream][5:7], stream  # the same requests at 2000 and 3000 records

"""End to end: the demo's PyAirbyte path (real PyAirbyte in `.venv-demo/`, the connector's executable,
a DuckDB file), twice against the emulator. Covers whatever streams the connector discovers.

The oracle is the Airbyte source itself, read in-process by the harness (its own tests check it
against what the emulator holds): the DuckDB tables must hold exactly those records, and the
second run must read exactly what an incremental read from the first run's state reads.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from testkit.connector import assert_no_secrets_in, final_state, records_by_stream, run_discover, run_read, state_for
from testkit.demo import DEMO_VENV, PYAIRBYTE, pyairbyte_sync
from testkit.tool_venvs import ensure_venv

pytestmark = pytest.mark.e2e


def table_counts(cache, tables):
    """Row counts straight from the DuckDB file, with PyAirbyte's duckdb but without PyAirbyte."""
    python = ensure_venv(DEMO_VENV, PYAIRBYTE) / "python"
    script = (
        "import duckdb, json, sys; db = duckdb.connect(sys.argv[1], read_only=True); "
        "print(json.dumps({t: db.sql(f'SELECT count(*) FROM {t}').fetchone()[0] for t in sys.argv[2:]}))"
    )
    done = subprocess.run([str(python), "-c", script, str(cache), *tables], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def sync(config, cache, summary):
    done = pyairbyte_sync(config, cache, summary, capture=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert_no_secrets_in(done.stdout + done.stderr, config)
    return done.stdout, json.loads(summary.read_text())["streams"]


def test_pyairbyte_sync_into_duckdb_then_incremental(tmp_path, config):
    streams = {s.name: s for s in run_discover(config).catalog.catalog.streams}
    direct = run_read(config, list(streams))
    expected = records_by_stream(direct)
    keys = {name: [path[0] for path in s.source_defined_primary_key or []] for name, s in streams.items()}
    incremental = [name for name, s in streams.items() if "incremental" in [m.value for m in s.supported_sync_modes]]
    cache = tmp_path / "calltracking.duckdb"

    printed, first = sync(config, cache, tmp_path / "first.json")
    assert sorted(first) == sorted(streams)
    assert f"First run: read the whole history of {len(streams)} streams" in printed
    for name, stream in streams.items():
        rows = expected.get(name, [])
        distinct = len({tuple(str(r.get(k)) for k in keys[name]) for r in rows}) if keys[name] else len(rows)
        assert first[name]["read_this_run"] == len(rows), name
        assert first[name]["rows"] == distinct, name
        assert not first[name]["continued_from_state"], name
        cursor = first[name]["cursor"]
        assert cursor == (stream.default_cursor_field[0] if stream.default_cursor_field else None)
        if cursor and rows and "format" not in stream.json_schema["properties"].get(cursor, {}):
            values = [str(r[cursor]) for r in rows if r.get(cursor) is not None]
            assert (first[name]["first"], first[name]["last"]) == (min(values), max(values)), name
    assert sum(info["rows"] for info in first.values()) > 0
    tables = {name: info["table"] for name, info in first.items()}
    assert table_counts(cache, list(tables.values())) == {tables[n]: first[n]["rows"] for n in streams}

    states = {name: final_state(direct, name) for name in incremental}
    oracle = records_by_stream(run_read(config, list(streams), state=state_for(states)))
    printed, second = sync(config, cache, tmp_path / "second.json")
    assert f"Incremental run: {len(incremental)} of {len(streams)} streams continued from the state" in printed
    for name in streams:
        read_now = second[name]["read_this_run"]
        assert second[name]["continued_from_state"] == (name in incremental), name
        assert read_now == len(oracle.get(name, [])), name
        if name in incremental and first[name]["read_this_run"]:
            assert read_now < first[name]["read_this_run"], f"{name} was read in full again"
        if keys[name]:  # PyAirbyte merges by primary key, appends without one, replaces full-refresh streams
            assert second[name]["rows"] == first[name]["rows"], f"{name}: re-read records must merge by primary key"
        elif name in incremental:
            assert second[name]["rows"] == first[name]["rows"] + read_now, name
        else:
            assert second[name]["rows"] == read_now, name
    assert table_counts(cache, list(tables.values())) == {tables[n]: second[n]["rows"] for n in streams}
    assert_no_secrets_in(cache.read_bytes().decode("latin-1"), config)

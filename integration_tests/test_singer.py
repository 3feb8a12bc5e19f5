"""tap-calltracking (the Singer tap) against the emulator: discover, selection, state round trip.

Every test covers whatever streams the connector discovers for the emulated world; the oracle is
the Airbyte source itself, run in-process by the harness (whose own tests check it against what
the emulator holds).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from source_calltracking.providers import PROVIDERS_BY_KEY
from testkit.connector import assert_no_secrets_in, final_state, records_by_stream, run_discover, run_read, state_for
from testkit.emulator.world import build_world, world_config

TAP = str(Path(sys.executable).with_name("tap-calltracking"))


def run_tap(tmp_path: Path, config: dict[str, Any], *args: str, catalog=None, state=None) -> tuple[list[dict], str]:
    """Run the tap's console script; return its stdout messages (asserting exit 0) and stderr."""
    command = [TAP, "--config", write(tmp_path / "config.json", config), *args]
    if catalog is not None:
        command += ["--catalog", write(tmp_path / "catalog.json", catalog)]
    if state is not None:
        command += ["--state", write(tmp_path / "state.json", state)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert_no_secrets_in(done.stdout + done.stderr, config)
    assert done.returncode == 0, done.stderr[-2000:]
    if "--discover" in args:
        return [json.loads(done.stdout)], done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def write(path: Path, content: Any) -> str:
    path.write_text(json.dumps(content))
    return str(path)


def of_type(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m["type"] == kind]


def records(messages: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for m in of_type(messages, "RECORD"):
        out.setdefault(m["stream"], []).append(m["record"])
    return out


def identities(rows: list[dict], keys: list[str]) -> list[tuple]:
    return sorted(tuple(str(row.get(k)) for k in keys) for row in rows)


def top(entry: dict) -> dict:
    return next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])


# These tests only read (no faults, no data changes): one emulated world and one full read serve them all.
@pytest.fixture(scope="module")
def world():
    with build_world() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def config(world):
    return world_config(world)


@pytest.fixture(scope="module")
def airbyte_streams(config):
    return {s.name: s for s in run_discover(config).catalog.catalog.streams}


@pytest.fixture(scope="module")
def direct(config, airbyte_streams):
    """The Airbyte source's own full read of every stream (in-process)."""
    return run_read(config, list(airbyte_streams))


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("tap")


@pytest.fixture(scope="module")
def discovered(module_tmp, config):
    return run_tap(module_tmp, config, "--discover")[0][0]


@pytest.fixture
def catalog(discovered):
    return json.loads(json.dumps(discovered))  # each test may change its selection


def test_discover_lists_every_airbyte_stream_with_keys_and_replication_metadata(catalog, airbyte_streams):
    assert [e["tap_stream_id"] for e in catalog["streams"]] == list(airbyte_streams)
    for entry in catalog["streams"]:
        stream = airbyte_streams[entry["stream"]]
        keys = [path[0] for path in stream.source_defined_primary_key or []]
        assert entry["key_properties"] == keys == top(entry)["table-key-properties"]
        assert entry["schema"] == stream.json_schema
        if "incremental" in [mode.value for mode in stream.supported_sync_modes]:
            assert top(entry)["valid-replication-keys"] == stream.default_cursor_field == [entry["replication_key"]]
        else:
            assert top(entry)["forced-replication-method"] == "FULL_TABLE"
        property_breadcrumbs = [m["breadcrumb"] for m in entry["metadata"] if m["breadcrumb"]]
        assert property_breadcrumbs == [["properties", p] for p in stream.json_schema["properties"]]


def test_full_sync_then_incremental_from_the_tap_own_state(tmp_path, config, catalog, airbyte_streams, direct):
    """Everything on the first run; from the printed state, exactly what the source re-reads (lookback)."""
    names = list(airbyte_streams)
    expected = records_by_stream(direct)
    first, _ = run_tap(tmp_path, config, catalog=catalog)

    schemas = first[: len(names)]
    assert [(m["type"], m["stream"]) for m in schemas] == [("SCHEMA", name) for name in names]
    got = records(first)
    for entry in catalog["streams"]:
        name, keys = entry["stream"], entry["key_properties"]
        assert identities(got.get(name, []), keys) == identities(expected.get(name, []), keys), name
        schema = next(m for m in schemas if m["stream"] == name)
        assert schema["key_properties"] == keys
        assert schema["bookmark_properties"] == ([entry["replication_key"]] if "replication_key" in entry else [])
    assert sum(len(v) for v in got.values()) > 0

    final = of_type(first, "STATE")[-1]["value"]
    incremental = [e["stream"] for e in catalog["streams"] if "replication_key" in e]
    assert sorted(final["bookmarks"]) == sorted(incremental)
    for name in incremental:
        # `lookback_window` is the CDK's own bookkeeping for child streams: the seconds the parent
        # sync took, which differs between two runs; the cursors themselves must be equal.
        assert _without_runtime(final["bookmarks"][name]) == _without_runtime(final_state(direct, name))

    second, _ = run_tap(tmp_path, config, catalog=catalog, state=final)
    again = records(second)
    oracle = records_by_stream(run_read(config, names, state=state_for(final["bookmarks"])))
    for entry in catalog["streams"]:
        name, keys = entry["stream"], entry["key_properties"]
        assert identities(again.get(name, []), keys) == identities(oracle.get(name, []), keys), name
        if name in incremental and got.get(name):
            assert len(again.get(name, [])) < len(got[name]), f"{name} was read in full again"
    assert {k: _without_runtime(v) for k, v in of_type(second, "STATE")[-1]["value"]["bookmarks"].items()} == {
        k: _without_runtime(v) for k, v in final["bookmarks"].items()
    }


def _without_runtime(state):
    return {k: v for k, v in state.items() if k != "lookback_window"} if isinstance(state, dict) else state


def test_a_given_bookmark_reads_only_records_from_it_on(tmp_path, config, catalog, direct):
    """A bookmark at the middle of each incremental stream: only the records the source reads from it."""
    full = direct
    everything = records_by_stream(full)
    bookmarks, keys = {}, {}
    for entry in catalog["streams"]:
        name, cursor = entry["stream"], entry.get("replication_key")
        rows = everything.get(name, [])
        if cursor and rows and set(final_state(full, name)) == {cursor}:  # a plain {cursor: value} state
            values = sorted(str(r[cursor]) for r in rows if r.get(cursor) is not None)
            bookmarks[name] = {cursor: values[len(values) // 2]}
            keys[name] = entry["key_properties"]
    assert bookmarks, "no stream with a plain cursor state to test"
    selection = {"streams": [e for e in catalog["streams"] if e["stream"] in bookmarks]}

    messages, _ = run_tap(tmp_path, config, catalog=selection, state={"bookmarks": bookmarks})
    got = records(messages)
    oracle = records_by_stream(run_read(config, list(bookmarks), state=state_for(bookmarks)))
    assert sorted(got) == sorted(name for name in bookmarks if oracle.get(name))
    for name in bookmarks:
        assert identities(got.get(name, []), keys[name]) == identities(oracle.get(name, []), keys[name]), name
        assert 0 < len(got[name]) < len(everything[name]), name


def test_selection_replication_method_and_properties(tmp_path, config, catalog, direct):
    """breadcrumb [] selected true/false, FULL_TABLE via metadata, a property deselected (as Meltano writes them)."""
    entries = catalog["streams"]
    full_table = next(e for e in entries if "replication_key" in e)  # incremental by default: forced to FULL_TABLE
    other = next(e for e in entries if e is not full_table)  # left at its default method
    for entry in entries:
        top(entry)["selected"] = entry is full_table or entry is other
    top(full_table)["replication-method"] = "FULL_TABLE"
    automatic = set(full_table["key_properties"]) | {full_table["replication_key"]}
    sent = records_by_stream(direct)[full_table["stream"]]
    dropped = next(p for p in full_table["schema"]["properties"] if p not in automatic and any(p in r for r in sent))
    for m in full_table["metadata"]:
        if m["breadcrumb"]:
            m["metadata"]["selected"] = m["breadcrumb"][1] != dropped

    messages, _ = run_tap(tmp_path, config, catalog=catalog)
    got = records(messages)
    assert [m["stream"] for m in of_type(messages, "SCHEMA")] == [e["stream"] for e in entries if e in (full_table, other)]
    assert set(got) <= {full_table["stream"], other["stream"]}
    schema = next(m for m in of_type(messages, "SCHEMA") if m["stream"] == full_table["stream"])
    assert dropped not in schema["schema"]["properties"] and schema["bookmark_properties"] == []
    assert got[full_table["stream"]] and all(dropped not in r for r in got[full_table["stream"]])
    assert len(got[full_table["stream"]]) == len(sent)
    bookmarks = of_type(messages, "STATE")[-1]["value"]["bookmarks"]
    assert set(bookmarks) == ({other["stream"]} if "replication_key" in other else set())


def test_bad_key_fails_with_the_source_message_on_stderr_and_no_secret(tmp_path, config, catalog):
    provider = next(key for key, value in config.items() if isinstance(value, dict))
    broken = json.loads(json.dumps(config))
    secret_field = next(k for k in ("api_key", "access_token") if k in broken[provider])
    broken[provider][secret_field] = "0000000000bad0key"
    # Only that provider's check stream: the others would spend the emulated quotas (RIA: 30 an hour).
    catalog["streams"] = [e for e in catalog["streams"] if e["stream"] == PROVIDERS_BY_KEY[provider].check_stream]
    command = [TAP, "--config", write(tmp_path / "config.json", broken), "--catalog", write(tmp_path / "catalog.json", catalog)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert_no_secrets_in(done.stdout + done.stderr, broken)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("CRITICAL The sync did not finish.") and "Traceback" not in done.stderr
    assert [json.loads(line)["type"] for line in done.stdout.splitlines()][-1] == "STATE"

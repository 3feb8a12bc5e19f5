"""The docs page's ClickHouse recipe, run as written: two syncs of every provider from the emulator (the first of
the whole history, the second incremental from the first's state), the connector's own executable writing JSON
Lines, loaded into one ReplacingMergeTree table per stream with the page's SQL, in ClickHouse's engine in-process
(chdb, no server). The SQL is read from the page, so the recipe stays true.

The oracle is the emulator (held.py): each table, read deduplicated (FINAL, and argMax), holds exactly the records
the emulator holds, although the two files together hold more (the lookback window is read twice), and each
record re-read by the second sync is kept in its second copy.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from integration_tests.destinations.held import held_counts
from testkit.connector import assert_no_secrets_in, catalog_for, run_discover
from testkit.demo import connector_executable
from testkit.emulator.world import build_world, world_config

chdb_session = pytest.importorskip("chdb.session", reason="chdb (ClickHouse in-process) comes with the dev extras")

pytestmark = pytest.mark.e2e
DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "sources" / "calltracking.md"
RECIPE_HEADING = "### Load into ClickHouse, deduplicated"
# Half the default world: every stream still has records and a lookback window to re-read; the test stays short.
SCALE = 0.5


def recipe():
    """(the jq line that makes state.json, [DDL statements], [INSERT statement], [read statements]) from the page."""
    text = DOCS.read_text()
    assert RECIPE_HEADING in text, f"the docs page has no '{RECIPE_HEADING}' section"
    section = re.split(r"^#{1,3} ", text.split(RECIPE_HEADING, 1)[1], flags=re.M)[0]
    blocks = re.findall(r"^```(\w+)\n(.*?)^```", section, re.S | re.M)
    shell = [body for kind, body in blocks if kind == "bash"]
    sql = [[s.strip() for s in re.split(r";\s*$", body, flags=re.M) if s.strip()] for kind, body in blocks if kind == "sql"]
    assert len(shell) == 1 and len(sql) == 3, "the recipe has one bash block and three SQL blocks (tables, load, read)"
    jq = [line for line in shell[0].splitlines() if line.startswith("jq ")]
    assert len(jq) == 1
    return jq[0], *sql


def filled(statement, **values):
    for name, value in values.items():
        statement = statement.replace("{" + name + "}", value)
    assert not re.search(r"\{[a-z]+\}", statement), f"a placeholder is left in {statement!r}"
    return statement


def read_to_file(config, catalog, output, state=None, tmp=None):
    """`source-calltracking read … > output`, the connector's own executable, as the recipe says."""
    (tmp / "config.json").write_text(json.dumps(config))
    command = [str(connector_executable()), "read", "--config", str(tmp / "config.json"), "--catalog", str(catalog)]
    if state is not None:
        command += ["--state", str(state)]
    with open(output, "w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = output.read_text()
    assert_no_secrets_in(printed + done.stderr, config)
    return [json.loads(line) for line in printed.splitlines() if line.startswith("{")]


def last_states(messages):
    """What the recipe's jq line makes: the last STATE of each stream, as a list of state messages."""
    last = {}
    for message in messages:
        if message["type"] == "STATE":
            last[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
    return [last[name] for name in sorted(last)]


def records_of(messages):
    found = defaultdict(list)
    for message in messages:
        if message["type"] == "RECORD":
            found[message["record"]["stream"]].append(message["record"])
    return found


def test_the_docs_recipe_loads_two_syncs_into_replacing_merge_trees_that_hold_every_record_once(tmp_path):
    jq_line, create, load, read = recipe()
    with build_world(scale=SCALE) as emulator:
        config = world_config(emulator)
        streams = {s.name: s for s in run_discover(config).catalog.catalog.streams}
        held = held_counts(emulator)
        assert sorted(held) == sorted(streams), "held.py must count every stream the connector discovers"
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog_for(streams))))
        first = read_to_file(config, catalog, tmp_path / "sync-1.jsonl", tmp=tmp_path)
        states = last_states(first)
        if shutil.which("jq"):  # the recipe's own line, where jq is installed, must make the same file
            line = jq_line.replace("sync-1.jsonl", str(tmp_path / "sync-1.jsonl"))
            line = line.replace("state.json", str(tmp_path / "state.json"))
            subprocess.run(["bash", "-c", line], check=True, timeout=60)
            assert json.loads((tmp_path / "state.json").read_text()) == states
        else:
            (tmp_path / "state.json").write_text(json.dumps(states))
        second = read_to_file(config, catalog, tmp_path / "sync-2.jsonl", state=tmp_path / "state.json", tmp=tmp_path)

    records = [records_of(first), records_of(second)]
    assert {name: len(records[0][name]) for name in streams} == held, "the first sync emits every record once"
    incremental = [name for name, s in streams.items() if "incremental" in [m.value for m in s.supported_sync_modes]]
    assert all(len(records[1][name]) < held[name] for name in incremental if held[name]), "the second sync is incremental"
    reread = [name for name in incremental if records[1][name]]
    assert len(reread) >= 10, f"the lookback window was read again in only {reread}"

    session = chdb_session.Session(str(tmp_path / "clickhouse"))
    try:

        def run(statement):
            return session.query(statement, "JSONCompact").bytes()

        for name, stream in streams.items():
            key = "[" + ", ".join(f"'{path[0]}'" for path in stream.source_defined_primary_key or []) + "]"
            for statement in create:
                run(filled(statement, stream=name))
            for output in ("sync-2.jsonl", "sync-1.jsonl"):  # "in any order": the version decides, not the order of loading
                run(filled(load[0], stream=name, key=key, file=str(tmp_path / output)))

            final_count, grouped = (filled(statement, stream=name) for statement in read)
            assert json.loads(run(final_count))["data"] == [[held[name]]], f"{name}: FINAL count"
            newest = newest_copies(records, name, [path[0] for path in stream.source_defined_primary_key or []])
            rows = json.loads(run(grouped))["data"]
            assert len(rows) == held[name], f"{name}: {len(rows)} rows by argMax; the emulator holds {held[name]}"
            assert {tuple(key): json.loads(data) for key, data in rows} == {key: data for key, (_, data) in newest.items()}, name
            # Each key keeps its newest copy (the second sync's, for a re-read record), whatever the order of loading.
            final = json.loads(
                run(f"SELECT _airbyte_key, toUnixTimestamp64Milli(_airbyte_extracted_at) FROM calltracking.{name} FINAL")
            )["data"]
            assert {tuple(key): int(emitted) for key, emitted in final} == {key: at for key, (at, _) in newest.items()}, name
    finally:
        session.close()


def key_text(data, field):
    """A key value as the recipe takes it: a string as it is, anything else as its JSON text ('' when absent)."""
    if field not in data:
        return ""
    value = data[field]
    return value if isinstance(value, str) else json.dumps(value)


def newest_copies(records, name, key_fields):
    """key -> (emitted_at, data) of the newest copy of each record in both syncs' files."""
    newest = {}
    for output in records:
        for record in output[name]:
            key = tuple(key_text(record["data"], field) for field in key_fields)
            if key not in newest or record["emitted_at"] >= newest[key][0]:
                newest[key] = (record["emitted_at"], record["data"])
    return newest

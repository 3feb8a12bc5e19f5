"""End to end into a real PostgreSQL server: every provider from the emulator, through PyAirbyte's Postgres cache
(`./run-demo --postgres`: testkit/pyairbyte_sync.py in `.venv-demo/`, the connector's executable), twice: a
first sync of the whole history, then an incremental one from the state PyAirbyte saved after the first.

The oracle is the emulator (held.py): after each sync every stream's table holds exactly the records the
emulator holds, one row per primary key although the second sync re-reads the lookback window; the state
PyAirbyte keeps in the schema has every incremental stream's cursor, and the second is not earlier than the first.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from integration_tests.destinations.held import END, START, held_counts
from testkit.connector import assert_no_secrets_in, run_discover
from testkit.demo import pyairbyte_sync
from testkit.emulator.world import build_world, world_config

pytestmark = pytest.mark.e2e
SCHEMA = "calltracking_e2e"
# Half the default world: every stream still has records and a lookback window to re-read, and two PyAirbyte
# syncs (whose start-up is most of their time) stay well under a minute.
SCALE = 0.5


@pytest.fixture
def emulator():
    with build_world(scale=SCALE) as world:
        yield world


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


def moment(value):
    """A cursor value ("YYYY-MM-DD hh:mm:ss", ISO 8601 with or without an offset, or a day) as a naive UTC datetime."""
    parsed = dt.datetime.fromisoformat(str(value).replace(" ", "T").replace("Z", "+00:00"))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def cursor_value(stream_state, cursor):
    """The cursor in a stream state: at the top, or under "state" for a substream's global cursor (the CDK's
    {"state": {...}, "parent_state": {...}, "use_global_cursor": true}, e.g. uis_chat_messages under uis_chats)."""
    return stream_state.get(cursor) or (stream_state.get("state") or {}).get(cursor)


def sync(config, server, tmp_path, name, password=None):
    environment = {**os.environ, **server.environment(SCHEMA)}
    if password is not None:
        environment["PGPASSWORD"] = password
    summary = tmp_path / f"{name}.json"
    done = pyairbyte_sync(
        config, tmp_path / "pyairbyte" / "unused.duckdb", summary, capture=True, postgres=True, environment=environment
    )
    printed = done.stdout + done.stderr
    assert server.password not in printed, "the PostgreSQL password was printed"
    assert_no_secrets_in(printed, config)
    return done, printed, (json.loads(summary.read_text())["streams"] if summary.exists() else None)


def table_facts(server, table, key_columns):
    """(rows, distinct primary keys) straight from the server; a stream without a key (a one-record full refresh,
    which PyAirbyte replaces) counts its rows twice."""
    columns = [quoted(c) for c in key_columns]
    distinct = (
        f"count(DISTINCT ({', '.join(columns)}))"
        if len(columns) > 1
        else f"count(DISTINCT {columns[0]})"
        if columns
        else "count(*)"
    )
    rows, keys = server.query(f"SELECT count(*), {distinct} FROM {quoted(SCHEMA)}.{quoted(table)}")[0]
    return int(rows), int(keys)


def saved_states(server):
    """stream -> the stream_state PyAirbyte saved in the schema's _airbyte_state table."""
    found = {}
    for stream, state_json in server.query(f"SELECT stream_name, state_json FROM {quoted(SCHEMA)}._airbyte_state"):
        found[stream] = json.loads(state_json)["stream"]["stream_state"]
    return found


def test_two_syncs_into_postgres_hold_every_record_once_with_the_state(tmp_path, emulator, postgres_server):
    config = world_config(emulator)
    streams = {s.name: s for s in run_discover(config).catalog.catalog.streams}
    held = held_counts(emulator)
    assert sorted(held) == sorted(streams), "held.py must count every stream the connector discovers"
    keys = {name: [path[0].lower() for path in s.source_defined_primary_key or []] for name, s in streams.items()}
    assert sum(1 for k in keys.values() if k) >= len(streams) - 1, "every stream but callkeeper_user has a key to merge on"
    cursors = {
        name: s.default_cursor_field[0]
        for name, s in streams.items()
        if "incremental" in [m.value for m in s.supported_sync_modes] and s.default_cursor_field
    }
    assert len(cursors) >= 15 and sum(held[name] for name in cursors) > 0

    states, read = [], []
    for run in ("first", "second"):
        done, printed, summary = sync(config, postgres_server, tmp_path, run)
        assert done.returncode == 0, printed[-3000:]
        assert sorted(summary) == sorted(streams)
        for name in streams:
            table = summary[name]["table"].split(".", 1)[1]
            rows, distinct_keys = table_facts(postgres_server, table, keys[name])
            assert (rows, distinct_keys) == (held[name], held[name]), (
                f"{run} sync, {name}: {rows} rows with {distinct_keys} distinct keys; the emulator holds {held[name]}"
            )
            assert summary[name]["rows"] == held[name], name
        states.append(saved_states(postgres_server))
        read.append({name: summary[name]["read_this_run"] for name in streams})

    assert "Incremental run" in printed and "merged by primary key" in printed
    assert read[0] == held, "the first sync reads every record once"
    for name, cursor in cursors.items():
        first, second = (cursor_value(state.get(name, {}), cursor) for state in states)
        assert first and second, f"{name}: no {cursor} in the saved state: {states[0].get(name)} / {states[1].get(name)}"
        assert moment(START) <= moment(first) <= moment(second) <= moment(END), (name, first, second)
        if held[name]:
            # The lookback window was read again (so the merge had duplicates to drop), but not the whole history.
            assert 0 < read[1][name] < read[0][name], f"{name}: read {read[1][name]} records in the incremental sync"
    assert sum(read[1].values()) > sum(read[1][name] for name in streams if name not in cursors), (
        "the incremental sync re-read lookback records"
    )


def test_a_wrong_password_is_one_sentence_without_the_password(tmp_path, emulator, postgres_server):
    wrong = "not-" + postgres_server.password[::-1]
    done, printed, summary = sync(world_config(emulator), postgres_server, tmp_path, "refused", password=wrong)
    assert done.returncode == 1 and summary is None
    assert wrong not in printed
    assert f"PostgreSQL: could not connect to postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}" in printed
    assert "password authentication failed" in printed and "Traceback" not in printed

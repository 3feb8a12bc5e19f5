"""Saved state: the format written by 0.1.0 keeps working, the platform's legacy format is accepted,
and a broken state stops with one message that says what to do."""

import json
from pathlib import Path

import pytest

from integration_tests.calltracking.helpers import STREAMS, held_ids
from testkit.connector import records_by_stream, run_command
from testkit.emulator.world import world_config

STATE_0_1_0 = Path(__file__).resolve().parent.parent / "unit_tests" / "resources" / "state_0.1.0.json"


def read_with_state_file(config, state_text, tmp_path):
    from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

    from testkit.connector import catalog_for

    catalog = catalog_for(STREAMS)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog)))
    (tmp_path / "state.json").write_text(state_text)
    args = [
        "read",
        "--config",
        str(tmp_path / "config.json"),
        "--catalog",
        str(tmp_path / "catalog.json"),
        "--state",
        str(tmp_path / "state.json"),
    ]
    return run_command(args, config)


def expected_after(emulator, stream, cursor, lookback_days=1):
    import datetime as dt

    since = (dt.datetime.fromisoformat(cursor) - dt.timedelta(days=lookback_days)).isoformat()
    return sorted(held_ids(emulator, stream, since, "2024-04-30T23:59:59"))


def test_state_written_by_0_1_0_still_works(emulator, tmp_path):
    output = read_with_state_file(world_config(emulator), STATE_0_1_0.read_text(), tmp_path)
    assert not output.errors
    got = records_by_stream(output)
    for message in json.loads(STATE_0_1_0.read_text()):
        stream, cursor = message["stream"]["stream_descriptor"]["name"], message["stream"]["stream_state"]["call_datetime"]
        assert sorted(r["record_id"] for r in got[stream]) == expected_after(emulator, stream, cursor)


def test_the_platform_legacy_state_format_is_accepted(emulator, tmp_path):
    legacy = json.dumps({"calltracking_calls": {"call_datetime": "2024-03-01 00:00:00"}})
    output = read_with_state_file(world_config(emulator), legacy, tmp_path)
    got = records_by_stream(output)
    assert sorted(r["record_id"] for r in got["calltracking_calls"]) == expected_after(
        emulator, "calltracking_calls", "2024-03-01 00:00:00"
    )
    assert len(got["calltracking_calls_by_role"]) == 1200  # no state: from start_date


GARBAGE = {
    "not JSON": ("{oops", "the state file is not valid JSON"),
    "a number": ("42", "it must be a list of state messages"),
    "not state messages": ('[{"foo": 1}]', "entry 1 is not a state message"),
    "legacy with a non-object": ('{"calltracking_calls": 5}', "neither a list of state messages nor a {stream: state} object"),
    "unreadable cursor": (
        json.dumps(
            [
                {
                    "type": "STREAM",
                    "stream": {
                        "stream_descriptor": {"name": "calltracking_calls"},
                        "stream_state": {"call_datetime": "yesterday"},
                    },
                }
            ]
        ),
        "the cursor `call_datetime` of stream calltracking_calls is not a date-time ('yesterday')",
    ),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_a_garbage_state_gives_a_clear_error(emulator, tmp_path, name):
    text, reason = GARBAGE[name]
    output = read_with_state_file(world_config(emulator), text, tmp_path)
    assert not output.records
    error = output.errors[-1].trace.error
    assert error.failure_type.value == "config_error"
    assert error.message.startswith("The saved state could not be used: ")
    assert reason in error.message
    assert "Reset the connection's state" in error.message

"""CallKeeper REST API: every stream, in every answer shape, gives every record once, valid against its JSON schema."""

import json

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.callkeeper.helpers import ALL_STREAMS, WINDOWED, ck_config, held_ids, vendor
from integration_tests.helpers import SCHEMAS
from source_calltracking.components.callkeeper_statuses import STATUSES
from testkit.connector import error_messages, records_by_stream, run_read


def validators():
    return {name: jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{name}.json").read_text())) for name in ALL_STREAMS}


def test_every_stream_reads_every_record_once_and_matches_its_schema(emulator):
    output = run_read(ck_config(emulator), ALL_STREAMS, sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    checks = validators()
    for stream in WINDOWED:
        ids = [int(r["id"]) for r in got[stream]]
        assert len(ids) == len(set(ids)), f"{stream}: duplicates"
        assert sorted(ids) == held_ids(emulator, stream), f"{stream}: not what the API holds"
        for record in got[stream]:
            checks[stream].validate(record)
    assert len(got["callkeeper_calls"]) == 1500 and len(got["callkeeper_tap2calls"]) == 300
    assert got["callkeeper_user"] == [{**vendor(emulator).accounts[0].user, "account": None, "_invalid_fields": None}]
    checks["callkeeper_user"].validate(got["callkeeper_user"][0])


@pytest.mark.parametrize(
    "container,user_container,numbers_as_strings",
    [("array", "object", False), ("keyed", "result", True), ("result_keyed", "array", False), ("result", "array", True)],
)
def test_every_answer_shape_gives_the_same_records(world_with, container, user_container, numbers_as_strings):
    """The document shows no answer of the read methods: a bare array, an object keyed by id and
    {"result": {id: call}} work as well as {"result": [...]}, and so do the three user shapes.
    Numbers sent as strings (as an uncast PHP answer would) are passed through and still decoded."""
    emulator = world_with(
        callkeeper_container=container, callkeeper_user_container=user_container, numbers_as_strings=numbers_as_strings
    )
    output = run_read(
        ck_config(emulator, window_days=31), ["callkeeper_calls", "callkeeper_user"], sync_mode=SyncMode.full_refresh
    )
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    assert sorted(int(r["id"]) for r in got["callkeeper_calls"]) == held_ids(emulator, "callkeeper_calls")
    assert got["callkeeper_user"] == [{**vendor(emulator).accounts[0].user, "account": None, "_invalid_fields": None}]
    validator = validators()["callkeeper_calls"]
    for record in got["callkeeper_calls"]:
        validator.validate(record)
        pair = (int(record["status_code"]), int(record["status2_code"]))
        assert (record.get("status_title"), record.get("status_description")) == STATUSES.get(pair, (None, None))
    assert any(r.get("status_title") == "Звонок прошел успешно" for r in got["callkeeper_calls"])

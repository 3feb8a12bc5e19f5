"""ckct.ru: every answer shape and every record shape gives every call once, valid against its JSON schema."""

import json

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.calltracking.helpers import STREAMS, held_ids
from integration_tests.helpers import SCHEMAS
from testkit.connector import error_messages, records_by_stream, run_read
from testkit.emulator.world import world_config


@pytest.mark.parametrize("response_shape", ["envelope", "array"])
@pytest.mark.parametrize("record_shapes", ["new", "old", "mixed"])
def test_full_refresh_reads_every_call_once_in_every_shape(world_with, response_shape, record_shapes):
    emulator = world_with(ckct_response_shape=response_shape, ckct_record_shapes=record_shapes)
    output = run_read(world_config(emulator), STREAMS, sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    for stream in STREAMS:
        ids = [r["record_id"] for r in got[stream]]
        assert len(ids) == len(set(ids)), f"{stream}: duplicates"
        assert sorted(ids) == sorted(held_ids(emulator, stream)), f"{stream}: not what the API holds"
        validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{stream}.json").read_text()))
        for record in got[stream]:
            validator.validate(record)
            assert record["call_datetime"] and record["call_datetime"] >= "2024-01-01"

"""Property-based tests of ckct.ru response parsing and record handling: any body in, either
schema-valid records or nothing (the error handler deals with non-JSON), never a crash."""

import json
from pathlib import Path

import jsonschema
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_calltracking.components.calltracking import (
    CalltrackingLedgerFilter,
    CalltrackingPages,
    CalltrackingRecordExtractor,
    CalltrackingRecordKeys,
)
from source_calltracking.components.shared import SchemaTypeGuard
from unit_tests.properties_helpers import json_values, response_of

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "calltracking_calls.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
FIELDS = sorted(SCHEMA["properties"])

values = json_values(text_size=50, alphabet="йцукенгшщзхъ☎️📞\u0000\u202e")
calls = st.dictionaries(
    st.sampled_from(FIELDS + ["unexpected", "universalId", "callTime", "callId", "timeStart"]), values, max_size=15
)
bodies = st.one_of(
    st.lists(calls, max_size=5),
    st.fixed_dictionaries(
        {"payload": st.one_of(st.lists(calls, max_size=5), values)}, optional={"info": values, "inbound": values}
    ),
    values,
)


WINDOW = StreamSlice(partition={}, cursor_slice={"start_time": "2024-01-01 00:00:00", "end_time": "2024-01-30 23:59:59"})
PARAMETERS = {"name": "calltracking_calls", "provider_name": "CallKeeper call tracking"}


def handle(body_bytes: bytes):
    calls = CalltrackingRecordExtractor().extract_records(response_of(body_bytes))
    records = list(CalltrackingLedgerFilter(config={}, parameters=PARAMETERS).filter_records(calls, {}, WINDOW))
    keys = CalltrackingRecordKeys(parameters={"config_block": "callkeeper_calltracking", "time_zone_key": "time_zone"})
    guard = SchemaTypeGuard(parameters={"name": "calltracking_calls", "provider_name": "CallKeeper call tracking"})
    for record in records:
        keys.transform(record, stream_slice={"start_time": "2024-01-01 00:00:00"})
        guard.transform(record)
    return records


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_any_json_body_gives_schema_valid_records_or_none(body):
    for record in handle(json.dumps(body).encode()):
        VALIDATOR.validate(record)
        assert isinstance(record["call_datetime"], str)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_never_crash_the_parser(content):
    records = handle(content)
    assert isinstance(records, list)
    try:
        page = CalltrackingPages(config={}, parameters=PARAMETERS).next_page_token(
            response_of(content), len(records), None, None, stream_slice=WINDOW
        )
    except AirbyteTracedException as error:  # a window short of its `totalLength`, twice: said clearly
        assert error.message.startswith("CallKeeper call tracking: stream calltracking_calls, window ")
    else:
        assert page is None or isinstance(page, int)


def test_wrong_types_are_converted_or_set_aside_and_reported(caplog):
    record = {
        "universalId": 123,
        "callTime": "2024-01-02 03:04:05",
        "duration": "42",
        "statusFirst": "n/a",
        "tags": "vip",
        "unique": "yes",
        "clientNumber": 79990000001,
        "hooks": None,
        "page": True,
    }
    with caplog.at_level("WARNING"):
        [out] = handle(json.dumps([record]).encode())
    VALIDATOR.validate(out)
    assert out["record_id"] == "123" and out["duration"] == 42 and out["clientNumber"] == "79990000001"
    assert out["statusFirst"] is None and out["tags"] is None and out["unique"] is None and out["page"] is None
    assert out["_invalid_fields"] == {"statusFirst": "n/a", "tags": "vip", "unique": "yes", "page": "true"}
    warnings = [r.getMessage() for r in caplog.records if "_invalid_fields" in r.getMessage()]
    assert len(warnings) == 4
    assert warnings[0].startswith("CallKeeper call tracking: stream calltracking_calls: the API sent a str for `statusFirst`")

"""Property-based tests of CallKeeper REST (api.callkeeper.ru) response parsing and record handling:
any body in, either records valid against the stream's schema or no records (error bodies are the
error handler's), never a crash; the status pair is decoded from the table or left null."""

import json
from pathlib import Path

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_calltracking.components import callkeeper_statuses
from source_calltracking.components.callkeeper import CallkeeperRecordExtractor, CallkeeperStatusTexts, callkeeper_records
from source_calltracking.components.shared import SchemaTypeGuard
from unit_tests.properties_helpers import json_values, response_of

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
STREAMS = (
    "callkeeper_calls",
    "callkeeper_completed_calls",
    "callkeeper_calls_by_status",
    "callkeeper_tap2calls",
    "callkeeper_user",
)
VALIDATORS = {name: jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{name}.json").read_text())) for name in STREAMS}
FIELDS = sorted(json.loads((SCHEMAS / "callkeeper_calls.json").read_text())["properties"])

values = json_values(
    text_size=40, alphabet="йцукенгшщзхъ☎️📞\u0000\u202e", samples=["200", "487", "0", "", " ", "200/200", "1e3", "-1"]
)
codes = st.one_of(st.sampled_from([pair for pair in callkeeper_statuses.STATUSES]), st.tuples(values, values))
calls = st.builds(
    lambda fields, pair: {**fields, **({"status_code": pair[0], "status2_code": pair[1]} if pair else {})},
    st.dictionaries(st.sampled_from(FIELDS + ["unexpected", "paid_till", "_invalid_fields"]), values, max_size=12),
    st.one_of(st.none(), codes),
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "status": st.just("success"),
            "result": st.one_of(st.lists(calls, max_size=4), st.dictionaries(st.text(max_size=6), calls, max_size=4)),
        }
    ),
    st.lists(calls, max_size=4),
    st.dictionaries(st.from_regex(r"\A[0-9]{1,7}\Z"), calls, max_size=4),
    st.fixed_dictionaries({"status": st.just("fail"), "reason": values}),
    st.lists(st.fixed_dictionaries({"status": st.just("fail"), "reason": values}), max_size=2),
    calls,
    values,
)


def handle(content: bytes, stream: str):
    """What the manifest does with a 200 body: extract, decode the status pair (call streams), guard the types."""
    records = list(CallkeeperRecordExtractor().extract_records(response_of(content)))
    guard = SchemaTypeGuard(parameters={"name": stream, "provider_name": "CallKeeper"})
    for record in records:
        if stream not in ("callkeeper_tap2calls", "callkeeper_user"):
            CallkeeperStatusTexts().transform(record)
        guard.transform(record)
    return records


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, st.sampled_from(STREAMS))
def test_any_json_body_gives_schema_valid_records_or_none(body, stream):
    for record in handle(json.dumps(body).encode(), stream):
        assert isinstance(record, dict)
        VALIDATORS[stream].validate(record)
        assert record.get("status") != "fail", "an error body became a record"
        if stream != "callkeeper_tap2calls" and stream != "callkeeper_user":
            title, description = record["status_title"], record["status_description"]
            assert (title is None) == (description is None)
            assert title is None or (title, description) in callkeeper_statuses.STATUSES.values()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(STREAMS))
def test_any_bytes_never_crash_the_parser(content, stream):
    assert isinstance(handle(content, stream), list)


@settings(max_examples=10, deadline=None)
@given(
    st.builds(lambda text, times: text * times, st.text(min_size=1, max_size=20), st.integers(1000, 50_000))
    | st.just("Москва ☎️" * 30_000)
)
def test_huge_strings_pass_through_untouched(huge):
    [record] = handle(
        json.dumps({"status": "success", "result": [{"id": 1, "city": huge, "tags": huge}]}).encode(), "callkeeper_calls"
    )
    assert record["city"] == huge and record["tags"] == huge
    VALIDATORS["callkeeper_calls"].validate(record)


def test_error_bodies_hold_no_records():
    for body in (
        {"status": "fail", "reason": "Not the correct key api"},
        [{"status": "fail", "reason": "Unknown user"}],
        {"status": "fail"},
        [],
        {},
        None,
        "fail",
        710,
    ):
        assert list(callkeeper_records(body)) == []


def test_wrong_types_are_converted_or_set_aside_and_reported(caplog):
    call = {
        "id": 7,
        "status_code": "200",
        "status2_code": "200",
        "ip": 3232235777,
        "duration_sec": "42",
        "city": ["Москва"],
        "record_url": False,
        "tags": {"a": 1},
        "date": 1709290000,
    }
    with caplog.at_level("WARNING"):
        [out] = handle(json.dumps({"status": "success", "result": [call]}).encode(), "callkeeper_calls")
    VALIDATORS["callkeeper_calls"].validate(out)
    assert (out["status_title"], out["status_description"]) == callkeeper_statuses.STATUSES[(200, 200)]
    assert out["ip"] == "3232235777" and out["duration_sec"] == "42" and out["date"] == "1709290000"
    assert out["city"] is None and out["record_url"] is None and out["tags"] is None
    assert out["_invalid_fields"] == {"city": '["Москва"]', "record_url": "false", "tags": '{"a":1}'}
    warnings = [r.getMessage() for r in caplog.records if "_invalid_fields" in r.getMessage()]
    assert len(warnings) == 3 and warnings[0].startswith("CallKeeper: stream callkeeper_calls: the API sent a list for `city`")

"""Property-based tests of UIS response handling: any body through the record extractor, the
paginator and the schema guard gives either schema-valid records or a clear UIS error (an
AirbyteTracedException whose message names UIS), never a crash and never a record that breaks its
schema silently. Unicode, huge strings, nulls, wrong types and missing fields included."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_calltracking.components.shared import SchemaTypeGuard
from source_calltracking.components.uis import UisLedgerFilter, UisOffsetPages, UisRecordExtractor
from unit_tests.properties_helpers import json_values, response_of

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
STREAMS = {
    "uis_calls": "get.calls_report",
    "uis_communications": "get.communications_report",
    "uis_chat_messages": "get.chat_messages_report",
    "uis_financial_summary": "get.financial_summary_report",
}
VALIDATORS = {s: jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{s}.json").read_text())) for s in STREAMS}
FIELDS = {s: sorted(v.schema["properties"]) for s, v in VALIDATORS.items()}

values = json_values(
    text_size=30,
    alphabet="йцукенгшщзхъ☎️📞\u0000\u202e\ufeff",
    samples=["2024-01-02 03:04:05", "2024-01-02T03:04:05Z", "", "null", "1e400", "9" * 40],
    integer_bound=2**63,
    max_leaves=8,
)


def rows_of(stream):
    known = st.sampled_from(FIELDS[stream] + ["unexpected", "_invalid_fields"])
    return st.dictionaries(known, values, max_size=12)


def results(stream):
    data = st.one_of(st.lists(rows_of(stream), max_size=5), st.lists(values, max_size=3), values)
    metadata = st.one_of(values, st.fixed_dictionaries({"total_items": st.one_of(st.integers(-5, 200_000), values)}))
    return st.fixed_dictionaries({}, optional={"data": data, "metadata": metadata, "meta_data": metadata})


def bodies(stream):
    error = st.fixed_dictionaries(
        {"code": values, "message": values},
        optional={
            "data": st.one_of(
                values,
                st.fixed_dictionaries(
                    {
                        "mnemonic": st.one_of(
                            st.sampled_from(["method_not_found", "limit_exceeded", "internal_error", "access_token_expired"]),
                            values,
                        )
                    }
                ),
            )
        },
    )
    return st.one_of(
        st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "id": values, "result": results(stream)}),
        st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "id": values, "error": error}),
        st.fixed_dictionaries({}, optional={"result": values, "error": values, "jsonrpc": values}),
        values,
    )


def handle(stream: str, content: bytes):
    """The extractor, the window ledger, the guard and the paginator, as the manifest chains them:
    (records, next offset)."""
    parameters = {"name": stream, "method": STREAMS[stream], "provider_name": "UIS", "key_fields": ["id"]}
    response = response_of(content)
    window = StreamSlice(partition={}, cursor_slice={"start_time": "2024-01-01 00:00:00", "end_time": "2024-03-29 23:59:59"})
    rows = UisRecordExtractor(parameters=parameters).extract_records(response)
    records = list(UisLedgerFilter(config={}, parameters=parameters).filter_records(rows, {}, window))
    guard = SchemaTypeGuard(parameters=parameters)
    for record in records:
        guard.transform(record)
    paginator = UisOffsetPages(config={}, parameters=parameters)
    offset = paginator.next_page_token(response, len(records), None, None, stream_slice=window)
    return records, offset


def check(stream: str, content: bytes):
    try:
        records, offset = handle(stream, content)
    except AirbyteTracedException as error:  # a clear stop, never a silent loss
        assert error.message.startswith("UIS: "), error.message
        assert STREAMS[stream] in error.message or f"stream {stream}," in error.message
        return
    for record in records:
        assert isinstance(record, dict) and record, "an empty record would end the CDK's read loop"
        VALIDATORS[stream].validate(record)
        json.dumps(record)  # serialisable, as the destination gets it
    # The next page, or the window's first page again when its rows differ from `total_items`.
    assert offset is None or (isinstance(offset, int) and 0 <= offset <= 100_000)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
@pytest.mark.parametrize("stream", list(STREAMS))
def test_any_json_body_gives_schema_valid_records_or_a_clear_uis_error(stream, data):
    check(stream, json.dumps(data.draw(bodies(stream))).encode())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_never_crash_the_extractor_nor_the_paginator(content):
    check("uis_calls", content)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows_of("uis_calls"), min_size=1, max_size=3), st.integers(min_value=0, max_value=1_000_000))
def test_huge_strings_survive_whole(rows, size):
    huge = ("Москва ☎️ " * (size // 10 + 1))[: size + 1]
    for number, row in enumerate(rows):
        row["contact_full_name"] = huge
        # Rows the window's ledger and filter rightly drop are not this test's subject: a repeated id
        # (read once), or an `event_time_utc` outside the window (the API's field of that name).
        row["id"] = number
        row.pop("event_time_utc", None)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"data": rows, "metadata": {"total_items": len(rows)}}})
    records, _ = handle("uis_calls", body.encode())
    assert [r["contact_full_name"] for r in records] == [huge] * len(rows)


def test_rows_of_wrong_types_are_converted_or_set_aside_and_reported(caplog):
    row = {
        "id": "123",
        "start_time": 1704164645,
        "talk_duration": "42",
        "is_lost": "no",
        "tags": "vip",
        "visitor_id": 12.5,
        "contact_full_name": 79990000001,
        "employees": None,
        "attributes": {"x": 1},
    }
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"data": [row], "metadata": {"total_items": 1}}}).encode()
    with caplog.at_level("WARNING"):
        [out], offset = handle("uis_calls", body)
    VALIDATORS["uis_calls"].validate(out)
    assert offset is None
    assert out["id"] == 123 and out["talk_duration"] == 42 and out["contact_full_name"] == "79990000001"
    assert out["start_time"] == "1704164645"  # a string field: the number kept, as text
    assert out["is_lost"] is None and out["tags"] is None and out["visitor_id"] is None and out["attributes"] is None
    assert out["_invalid_fields"] == {"is_lost": "no", "tags": "vip", "visitor_id": "12.5", "attributes": '{"x":1}'}
    warnings = [r.getMessage() for r in caplog.records if "_invalid_fields" in r.getMessage()]
    assert len(warnings) == 4 and warnings[0].startswith("UIS: stream uis_calls: the API sent a str for `is_lost`")


@pytest.mark.parametrize(
    "result, message",
    [
        ({"data": {"id": 1}, "metadata": {"total_items": 1}}, "got a dict"),
        ({"data": "rows"}, "got a str"),
        ({"data": [{"id": 1}, None]}, "got a list with a NoneType among its rows"),
        ({"metadata": {"total_items": 3}}, "got null"),
    ],
)
def test_a_result_without_a_list_of_rows_is_a_clear_error(result, message):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()
    with pytest.raises(AirbyteTracedException) as raised:
        handle("uis_calls", body)
    assert raised.value.message.startswith(
        "UIS: the API answered get.calls_report with a result whose `data` is not a list of rows"
    )
    assert message in raised.value.message


def test_empty_rows_are_dropped_and_an_empty_result_is_no_rows():
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "result": {"data": [{}, {"id": 5}, {}], "metadata": {"total_items": 3}}}
    ).encode()
    assert handle("uis_calls", body)[0] == [{"id": 5, "_invalid_fields": None}]
    assert handle("uis_calls", json.dumps({"result": {"data": None, "metadata": {"total_items": 0}}}).encode()) == ([], None)
    assert handle("uis_calls", json.dumps({"result": {}}).encode()) == ([], None)


def test_a_code_the_documentation_does_not_list_passes_through_unchanged():
    # Hypothesis once found `"channel": 0` turned into "0", which a JSON-schema enum of the documented
    # channels refused: the schemas name the documented codes in descriptions instead of enforcing them.
    row = {"id": 7, "channel": 0, "direction": "tiktok", "finish_reason": "a_reason_added_in_2027"}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"data": [row], "metadata": {"total_items": 1}}}).encode()
    [communication], _ = handle("uis_communications", body)
    [call], _ = handle("uis_calls", body)
    VALIDATORS["uis_communications"].validate(communication)
    VALIDATORS["uis_calls"].validate(call)
    assert communication["channel"] == "0" and communication["_invalid_fields"] is None
    assert call["direction"] == "tiktok" and call["finish_reason"] == "a_reason_added_in_2027"
    assert '"enum"' not in json.dumps(VALIDATORS["uis_calls"].schema)
    assert "Documented values: advert, organic" in VALIDATORS["uis_communications"].schema["properties"]["channel"]["description"]

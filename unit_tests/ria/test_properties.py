"""Property-based tests of RIA.com calls_stat response parsing and record handling, with the
manifest's own record selector and transformations (built from the manifest, not re-declared):
any body in, either records valid against the schema or no records, never a crash."""

import json
from pathlib import Path

import jsonschema
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_calltracking import SourceCalltracking
from unit_tests import properties_helpers
from unit_tests.properties_helpers import json_values

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "ria_calls.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
FIELDS = sorted(SCHEMA["properties"])
CONFIG = {"start_date": "2024-01-01", "end_date": "2024-01-31", "ria": {"api_key": "k" * 40, "user_id": "1"}}


def _retriever():
    stream = next(s for s in SourceCalltracking(config=CONFIG).streams(CONFIG) if s.name == "ria_calls")
    partition_generator = stream._stream_partition_generator  # the declarative stream behind the concurrent adapter
    factory = partition_generator._partition_factory
    return factory._retriever


RETRIEVER = _retriever()
SLICE = {"start_time": "2024-01-01", "end_time": "2024-01-31"}

values = json_values(
    text_size=40, alphabet="ґєіїйцукенгшщзхъ🚗\u0000\u202e", samples=["22300001", "0", "", "2024-01-05T10:00:00", "ANSWER", "1e3"]
)
calls = st.dictionaries(st.sampled_from(FIELDS + ["unexpected", "_invalid_fields"]), values, max_size=15)
bodies = st.one_of(st.lists(calls, max_size=5), st.lists(values, max_size=4), calls, values)


def response_of(content: bytes) -> requests.Response:
    """A 200 response with this body, to a request of calls_stat."""
    response = properties_helpers.response_of(content)
    response.request = requests.Request("GET", "https://developers.ria.com/auto/new/calls_stat").prepare()
    return response


def handle(content: bytes, retriever=RETRIEVER):
    """The manifest's record selector (extractor + transformations) on a 200 body."""
    records = retriever.record_selector.select_records(
        response=response_of(content), stream_state={}, records_schema=SCHEMA, stream_slice=SLICE
    )
    return [dict(record.data) for record in records]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_any_json_body_gives_schema_valid_records_or_none(body):
    records = handle(json.dumps(body).encode())
    for record in records:
        VALIDATOR.validate(record)
    if not isinstance(body, list):
        assert records == [], "a body that is not the documented array of calls gave records"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_never_crash_the_parser(content):
    assert isinstance(handle(content), list)


def test_huge_and_unicode_strings_pass_through_untouched():
    huge = "Київ ґ 🚗" * 40_000
    [record] = handle(json.dumps([{"call_id": 1, "marka": huge, "model": "\u0000\u202e"}]).encode())
    assert record["marka"] == huge and record["model"] == "\u0000\u202e"
    VALIDATOR.validate(record)


def test_wrong_types_are_converted_or_set_aside_and_reported(caplog):
    call = {
        "call_id": "22300001",
        "duration": "12",
        "price": "15000.5",
        "marka_id": None,
        "caller_phone": 380501234567,
        "status": ["ANSWER"],
        "waighting": True,
        "date": "2024-01-05T10:00:00",
    }
    with caplog.at_level("WARNING"):
        [out] = handle(json.dumps([call]).encode(), _retriever())  # a fresh guard: it reports each field once
    VALIDATOR.validate(out)
    assert out["call_id"] == 22300001 and out["duration"] == 12 and out["caller_phone"] == "380501234567"
    assert out["price"] is None and out["status"] is None and out["waighting"] is None and out["marka_id"] is None
    assert out["_invalid_fields"] == {"price": "15000.5", "status": '["ANSWER"]', "waighting": "true"}
    warnings = [r.getMessage() for r in caplog.records if "_invalid_fields" in r.getMessage()]
    assert len(warnings) == 3 and warnings[0].startswith("RIA.com: stream ria_calls: the API sent a str for `price`")

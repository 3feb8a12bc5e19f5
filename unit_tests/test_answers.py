"""answers: large answers are read from a file a segment at a time, and give exactly the
records a whole parse gives; a cut-off answer is refused before any record is read."""

from __future__ import annotations

import io
import json

import orjson
import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_calltracking.components import answers
from source_calltracking.components.answers import answer_of, json_body, spooled_records


@pytest.fixture(autouse=True)
def small_limits(monkeypatch):
    """Kilobytes instead of megabytes, so that small bodies take the large-body path."""
    monkeypatch.setattr(answers, "SPOOL_THRESHOLD_BYTES", 400)
    monkeypatch.setattr(answers, "SEGMENT_BYTES", 200)
    monkeypatch.setattr(answers, "_EDGE_BYTES", 160)
    monkeypatch.setattr(answers, "_CHUNK_BYTES", 97)


def streamed(content: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(content)
    return response


def read(content: bytes):
    """(records as the extractors get them, the body the filters see, spooled or not)."""
    response = streamed(content)
    assert answer_of(response, "Vendor").interruption is None
    spooled = spooled_records(response)
    body = json_body(response)
    records = list(spooled.items()) if spooled is not None else None
    return records, body, spooled is not None


def call(n: int) -> dict:
    # Nested lists of objects and strings that look like record boundaries, to mislead the cutter.
    return {
        "call_id": n,
        "note": 'a "},{"call_id": 1} in a string',
        "tags": [{"call_id": n, "t": "x"}, {"t": "},{"}],
        "city": "Москва ☎️",
        "price": n / 7,
        "empty": {},
        "list": [],
    }


def test_a_small_body_is_read_into_memory_as_before():
    content = orjson.dumps([call(1), call(2)])
    records, body, spooled = read(content)
    assert not spooled and records is None and body == orjson.loads(content)


def test_a_large_array_gives_every_record_of_a_whole_parse_and_the_filters_see_its_first():
    calls = [call(n) for n in range(300)]
    content = orjson.dumps(calls)
    assert len(content) > 20 * answers.SEGMENT_BYTES
    records, body, spooled = read(content)
    assert spooled and records == calls
    assert body == [calls[0]]


def test_a_large_uis_page_gives_its_rows_and_keeps_the_metadata():
    rows = [{"id": n, "tags": [{"tag_id": 1, "tag_name": "},{"}], "visitor": {"id": n}} for n in range(400)]
    page = {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"data": rows, "metadata": {"total_items": 123456, "limits": {"day_remaining": 5}}},
    }
    records, body, spooled = read(json.dumps(page, indent=1).encode())  # spaces and newlines between tokens
    assert spooled and records == rows
    assert body == {"jsonrpc": "2.0", "id": 1, "result": {"data": [rows[0]], "metadata": page["result"]["metadata"]}}


@pytest.mark.parametrize("envelope", ["result", "data"])
def test_an_envelope_around_the_array_is_found(envelope):
    calls = [call(n) for n in range(100)]
    records, body, spooled = read(orjson.dumps({"status": "success", envelope: calls}))
    assert spooled and records == calls and body == {"status": "success", envelope: [calls[0]]}


def test_a_large_object_without_an_array_of_records_is_parsed_whole():
    keyed = {str(n): call(n) for n in range(100)}
    records, body, spooled = read(orjson.dumps(keyed))
    assert not spooled and body == keyed


def test_an_array_of_other_values_is_read_whole_from_the_file():
    values = [f"value {n}" for n in range(500)]
    records, body, spooled = read(orjson.dumps(values))
    assert spooled and records == values


@pytest.mark.parametrize("cut", [1, 2, 50, 1000, 3001, -400, -3, -2, -1])
def test_a_large_answer_cut_off_anywhere_is_not_json_and_nothing_is_read(cut):
    content = orjson.dumps({"result": {"data": [call(n) for n in range(100)], "metadata": {"total_items": 100}}})
    records, body, spooled = read(content[:cut])
    assert body is None and not spooled


def test_an_array_cut_off_just_after_a_nested_list_is_not_taken_for_whole():
    content = orjson.dumps([call(n) for n in range(100)])
    cut = content.rindex(b"]", 0, len(content) - 1) + 1  # ends with the last call's `list: []`
    assert content[:cut].endswith(b"]")
    records, body, spooled = read(content[:cut])
    assert body is None and not spooled


def test_an_answer_garbled_in_the_middle_stops_with_a_sentence_naming_the_provider():
    content = bytearray(orjson.dumps([call(n) for n in range(200)]))
    middle = len(content) // 2
    content[middle : middle + 4] = b"@@@@"
    response = streamed(bytes(content))
    answer_of(response, "RIA.com")
    with pytest.raises(AirbyteTracedException) as raised:
        list(spooled_records(response).items())
    assert raised.value.message.startswith("RIA.com: the API's answer is not valid JSON after its first ")
    assert "next sync reads this date window again" in raised.value.message


def test_a_connection_dropped_while_reading_is_handed_back_as_the_error():
    class Dropping(io.BytesIO):
        def read(self, *args):
            raise requests.exceptions.ChunkedEncodingError("connection broken")

    response = streamed(b"")
    response.raw = Dropping()
    error = answer_of(response, "CallKeeper").interruption
    assert isinstance(error, requests.exceptions.ChunkedEncodingError)
    assert response.content == b"" and spooled_records(response) is None


def test_a_response_read_before_is_left_alone():
    response = streamed(b"[1, 2]")
    assert response.content == b"[1, 2]"  # read by someone before
    assert answer_of(response).interruption is None and json_body(response) == [1, 2]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from(list('ab},{[]":\\ йц☎') + ["\n", "\u2028"]), max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=10,
)
records = st.lists(
    st.dictionaries(st.sampled_from(["id", "a", "b", "tags", "x y"]), json_values, max_size=5), min_size=0, max_size=60
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records, st.sampled_from(["bare", "uis", "result"]), st.booleans())
def test_any_records_come_out_as_a_whole_parse_gives_them(calls, shape, pretty):
    document = {
        "bare": calls,
        "uis": {"jsonrpc": "2.0", "result": {"data": calls, "metadata": {"total_items": len(calls)}}},
        "result": {"result": calls, "status": "success"},
    }[shape]
    content = json.dumps(document, indent=1 if pretty else None, ensure_ascii=False).encode()
    got, body, spooled = read(content)
    if spooled:
        assert got == calls
    else:  # small, or not found as an array of records: the whole body, parsed as before
        assert body == orjson.loads(content)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records, st.data())
def test_any_cut_off_answer_is_refused_before_a_record_is_read(calls, data):
    content = orjson.dumps({"jsonrpc": "2.0", "result": {"data": calls + [call(1)] * 30, "metadata": {"total_items": 1}}})
    cut = data.draw(st.integers(min_value=1, max_value=len(content) - 1))
    got, body, spooled = read(content[:cut])
    assert body is None and not spooled


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.lists(st.dictionaries(st.sampled_from(["a", "tags", "note"]), json_values, max_size=4), min_size=30, max_size=60),
    st.data(),
)
def test_any_cut_off_bare_array_of_records_is_refused_before_a_record_is_read(calls, data):
    # Records that start with the same key, as every vendor's do: their boundaries can be told from
    # a `},{` nested inside a record.
    content = orjson.dumps([{"call_id": n, **fields} for n, fields in enumerate(calls)])
    cut = data.draw(st.integers(min_value=1, max_value=len(content) - 1))
    got, body, spooled = read(content[:cut])
    assert body is None and not spooled

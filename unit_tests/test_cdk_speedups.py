"""cdk_speedups: the fast cursor parsing gives exactly what the CDK's strptime gives, or raises as it does."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from hypothesis import given, settings
from hypothesis import strategies as st

from source_calltracking import cdk_speedups

cdk_speedups.apply()
FAST = DatetimeParser.parse
ORIGINAL = FAST.__closure__[0].cell_contents  # the CDK's own parse, which the fast one wraps
FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ"]
parser = DatetimeParser()


def outcome(parse, value, fmt):
    try:
        return parse(parser, value, fmt)
    except Exception as error:  # noqa: BLE001 - the kind of failure is what is compared
        return type(error)


def test_the_wrapper_is_installed_once():
    assert DatetimeParser.parse is FAST and getattr(FAST, "_calltracking", False)
    cdk_speedups.apply()
    assert DatetimeParser.parse is FAST
    assert ORIGINAL.__qualname__ == "DatetimeParser.parse"


@pytest.mark.parametrize(
    "value,fmt",
    [
        ("2024-03-01 10:20:30", FORMATS[0]),
        ("2024-03-01T10:20:30", FORMATS[1]),
        ("2024-03-01", FORMATS[2]),
        ("2024-03-01T10:20:30Z", FORMATS[3]),
        ("2024-03-01T10:20:30", FORMATS[3]),
        ("2024-03-01T24:00:00Z", FORMATS[3]),
        ("2024-03-01T10:20:30+00:00", FORMATS[3]),
        ("2024-13-01 10:20:30", FORMATS[0]),
        ("2024-02-30", FORMATS[2]),
        ("2024-03-01 25:00:00", FORMATS[0]),
        ("2024-03-01T10:20:30", FORMATS[0]),
        ("2024-03-01 10:20:30.5", FORMATS[0]),
        ("1709288430", "%s"),
        ("2024-03-01T10:20:30+03:00", "%Y-%m-%dT%H:%M:%S%z"),
        ("", FORMATS[2]),
        ("２０２４-03-01", FORMATS[2]),
    ],
)
def test_same_result_as_the_cdk(value, fmt):
    assert outcome(FAST, value, fmt) == outcome(ORIGINAL, value, fmt)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.sampled_from(FORMATS),
    st.text(alphabet="0123456789-: T", max_size=3),
)
def test_same_result_as_the_cdk_for_any_value(moment, fmt, noise):
    for value in (moment.strftime(fmt), moment.strftime(fmt) + noise, noise + moment.strftime(fmt)):
        assert outcome(FAST, value, fmt) == outcome(ORIGINAL, value, fmt), value


def test_every_cursor_format_of_the_manifest_takes_the_fast_path():
    """A cursor's first format the fast parse does not know falls back to strptime for every record: when
    `event_time_utc` (`%Y-%m-%dT%H:%M:%SZ`) became the cursor, that was half of a RIA.com sync's CPU."""
    manifest = yaml.safe_load((Path(cdk_speedups.__file__).parent / "manifest.yaml").read_text())
    formats = set()

    def visit(node):
        if isinstance(node, dict):
            if node.get("type") == "DatetimeBasedCursor":
                # The format the state is written in, and the first one a record's cursor is tried with.
                formats.update({node["datetime_format"], (node.get("cursor_datetime_formats") or [node["datetime_format"]])[0]})
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(manifest)
    event_time_format = manifest["definitions"]["shared"]["event_time_format"]
    formats = {event_time_format if f == "#/definitions/shared/event_time_format" else f for f in formats}
    assert event_time_format in formats
    assert formats <= set(cdk_speedups._ISO_SHAPES), sorted(formats - set(cdk_speedups._ISO_SHAPES))


# ---- slice hashing ----------------------------------------------------------------------------

from airbyte_cdk.sources.types import StreamSlice  # noqa: E402
from airbyte_cdk.utils.slice_hasher import SliceHasher  # noqa: E402


def _slice(start: str, end: str, partition=None) -> StreamSlice:
    return StreamSlice(partition=partition or {}, cursor_slice={"start_time": start, "end_time": end})


def test_equal_slices_hash_equal_and_key_the_same_entry():
    one, other = _slice("2024-01-01", "2024-01-31", {"chat_id": 7}), _slice("2024-01-01", "2024-01-31", {"chat_id": 7})
    assert one is not other and hash(one) == hash(other)
    seen = {one: "january"}
    assert seen[other] == "january"


def test_different_slices_hash_differently():
    hashes = {hash(_slice(f"2024-01-{day:02d}", "2024-02-01")) for day in range(1, 29)}
    hashes |= {hash(_slice("2024-01-01", "2024-02-01", {"chat_id": n})) for n in range(50)}
    assert len(hashes) == 28 + 50


def test_key_order_does_not_change_the_hash_and_the_stream_name_does():
    assert SliceHasher.hash("s", {"a": 1, "b": 2}) == SliceHasher.hash("s", {"b": 2, "a": 1})
    assert SliceHasher.hash("s", {"a": 1}) != SliceHasher.hash("t", {"a": 1})


def test_a_slice_that_is_not_serialisable_is_refused_as_the_cdk_refuses_it():
    with pytest.raises(ValueError, match="Failed to serialize stream slice"):
        SliceHasher.hash("s", {"a": object()})


def test_the_record_queue_holds_at_most_a_thousand_records():
    from source_calltracking.source import SourceCalltracking

    source = SourceCalltracking(config={"start_date": "2024-01-01", "ria": {"api_key": "k", "user_id": "1"}})
    assert source._concurrent_source._queue.maxsize == cdk_speedups.RECORD_QUEUE_SIZE == 1000


def test_a_record_message_built_directly_prints_as_the_cdks_own():
    from airbyte_cdk.entrypoint import AirbyteEntrypoint
    from airbyte_cdk.models import AirbyteLogMessage, Level
    from airbyte_cdk.sources.concurrent_source import concurrent_read_processor
    from airbyte_cdk.sources.utils.record_helper import stream_data_to_airbyte_message as cdk_own

    direct = concurrent_read_processor.stream_data_to_airbyte_message
    assert direct is not cdk_own and getattr(direct, "_calltracking", False)
    data = {"call_id": 1, "marka": None, "tags": [{"a": None}], "city": "Москва"}
    ours, theirs = direct("ria_calls", dict(data)), cdk_own("ria_calls", dict(data))
    ours.record.emitted_at = theirs.record.emitted_at = 5
    assert AirbyteEntrypoint.airbyte_message_to_string(ours) == AirbyteEntrypoint.airbyte_message_to_string(theirs)
    log = AirbyteLogMessage(level=Level.INFO, message="x")
    assert direct("ria_calls", log).log == log  # anything but a dict goes the CDK's way


def test_the_record_queue_is_first_in_first_out_bounded_and_holds_producers_back():
    import queue
    import threading
    import time

    records = cdk_speedups._RecordQueue(maxsize=10_000)
    assert records.maxsize == 1000 and records.empty()
    for n in range(1000):
        records.put(n)
    with pytest.raises(queue.Full):
        records.put("one too many", block=False)  # the CDK's main thread puts this way
    blocked = threading.Thread(target=records.put, args=("waited",))
    blocked.start()
    time.sleep(0.1)
    assert blocked.is_alive() and records.qsize() == 1000  # a reading thread waits for room
    assert [records.get() for _ in range(1000)] == list(range(1000))
    blocked.join(2)
    assert not blocked.is_alive() and records.get() == "waited" and records.empty()

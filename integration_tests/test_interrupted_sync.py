"""Kill the connector at random points of a long sync of three providers at once (CallKeeper
REST, RIA.com and ckct.ru), resume from the last state it emitted, and check at-least-once
delivery: the union of both runs holds every record, and a record delivered twice is one the
lookback window re-reads (or, with several requests in flight, one delivered past the checkpoint)."""

import datetime as dt
import random

import pytest

from integration_tests.calltracking.helpers import expected_ids as ckct_expected_ids
from integration_tests.helpers import committed_part, read_until_killed, start_read
from testkit.connector import assert_no_secrets_in
from testkit.emulator.world import build_world, world_config

START, END = "2024-01-01T00:00:00", "2024-04-30T23:59:59"
# stream -> (primary key, cursor field)
STREAMS = {
    "callkeeper_calls": ("id", "date"),
    "callkeeper_completed_calls": ("id", "date"),
    "callkeeper_tap2calls": ("id", "date"),
    "ria_calls": ("call_id", "event_time_utc"),  # 0.2.0: RIA.com's cursor is the UTC instant, no longer the day
    "calltracking_calls": ("record_id", "call_datetime"),
}
LOOKBACK = dt.timedelta(days=1)


def identity(stream, data):
    """(the record's id as text -- CallKeeper may send ids as numbers or as text --, its cursor)."""
    key, cursor = STREAMS[stream]
    return str(data[key]), data[cursor]


def expected(emulator):
    callkeeper, ria = emulator.vendors["callkeeper"], emulator.vendors["ria"]
    as_text = lambda ids: {str(i) for i in ids}  # noqa: E731
    return {
        "callkeeper_calls": as_text(callkeeper.call_ids("getCallsInfo", START, END)),
        "callkeeper_completed_calls": as_text(callkeeper.call_ids("getCallsCompleted", START, END)),
        "callkeeper_tap2calls": as_text(callkeeper.call_ids("getT2C", START, END)),
        "ria_calls": as_text(ria.call_ids("2024-01-01", "2024-04-30")),
        "calltracking_calls": as_text(ckct_expected_ids(emulator)["calltracking_calls"]),
    }


def moment(value):
    """A cursor value (record or state) as a datetime: "YYYY-MM-DD hh:mm:ss" or ISO (with or without Z)."""
    return dt.datetime.fromisoformat(value.replace(" ", "T")[:19])


def state_cursor(state, stream):
    return moment(state["stream"]["stream_state"][STREAMS[stream][1]])


@pytest.mark.parametrize("seed,concurrency", [(11, 1), (12, 1), (13, 3)])
def test_a_killed_three_provider_sync_resumes_without_losing_a_record(tmp_path, seed, concurrency):
    rng = random.Random(seed)
    with build_world(latency_seconds=0.005, scale=0.3, ria_hourly_limit=1000) as emulator:
        config = world_config(emulator, ["callkeeper_calltracking", "callkeeper", "ria"], concurrency_level=concurrency)
        config["callkeeper_calltracking"]["window_days"] = 10
        config["ria"]["window_days"] = 7
        held = expected(emulator)
        kill_after = rng.randint(100, sum(len(ids) for ids in held.values()) - 100)
        process = start_read(tmp_path, config, streams=list(STREAMS))
        lines, records = read_until_killed(process, kill_after)
        first, states = committed_part(lines, identity)
        assert_no_secrets_in("".join(lines), config)

        process = start_read(tmp_path, config, state=states or None, streams=list(STREAMS))
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        assert_no_secrets_in(out + err, config)
        second_lines = [line for line in out.splitlines() if line.startswith('{"type":"RECORD"')]
        second, _ = committed_part(out.splitlines(), identity)

        by_stream = {s["stream"]["stream_descriptor"]["name"]: s for s in states}
        assert by_stream and first, "the kill came before any checkpoint: nothing was resumed"
        for stream, ids in held.items():
            before, after = first.get(stream, set()), second.get(stream, set())
            union = {key for key, _ in before | after}
            assert union == ids, f"{stream}: {len(ids - union)} records lost after a kill at record {kill_after}"
            # The second run alone has no duplicate (windows meet exactly, pages do not overlap).
            assert len(after) == len({key for key, _ in after}) == sum(f'"stream":"{stream}"' in line for line in second_lines)
            twice = {key: cursor for key, cursor in before if key in {k for k, _ in after}}
            if stream not in by_stream:
                assert not twice
                continue
            checkpoint = state_cursor(by_stream[stream], stream)
            for key, cursor in twice.items():
                # Re-read because of the lookback: never older than the checkpoint minus the lookback...
                assert moment(cursor) >= checkpoint - LOOKBACK, (stream, key)
                if concurrency == 1:  # ...and, one request at a time, never past the checkpoint.
                    assert moment(cursor) < checkpoint + dt.timedelta(seconds=1), (stream, key)

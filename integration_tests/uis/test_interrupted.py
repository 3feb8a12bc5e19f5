"""UIS: kill the connector (the CLI, in a subprocess) at random points of a long multi-stream sync,
resume from the last state it emitted, and check that the union of both runs holds every row
(at-least-once), that rows come twice only inside the lookback window, and that deduplication by
primary key gives exactly what the API holds."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from integration_tests.helpers import committed_records, read_until_killed
from integration_tests.helpers import start_read as start_cli_read
from testkit.connector import assert_no_secrets_in
from testkit.emulator.timeline import spread
from testkit.emulator.world import build_world, world_config

START, END = "2022-01-01", "2024-04-30T23:59:59"
ROWS = {
    "get.calls_report": 3000,
    "get.communications_report": 2000,
    "get.call_legs_report": 2500,
    "get.goals_report": 800,
    "get.chats_report": 250,
}
STREAMS = {  # stream -> (method, primary key, cursor field)
    # since 0.2.0 every cursor is `event_time_utc` (states and records alike: "2024-02-19T21:53:59Z")
    "uis_calls": ("get.calls_report", ("id",), "event_time_utc"),
    "uis_communications": ("get.communications_report", ("id",), "event_time_utc"),
    "uis_call_legs": ("get.call_legs_report", ("id",), "event_time_utc"),
    "uis_goals": ("get.goals_report", ("id",), "event_time_utc"),
    "uis_chat_messages": ("get.chat_messages_report", ("chat_id", "date_time", "source", "text"), "event_time_utc"),
}
LOOKBACK = dt.timedelta(days=1)
FMT = "%Y-%m-%dT%H:%M:%SZ"


def expected_keys(vendor):
    keys = {}
    for stream, (method, pk, _) in STREAMS.items():
        if stream == "uis_chat_messages":
            rows = [m for chat in vendor.chat_ids(START, END) for m in vendor.chat_messages(chat)]
        else:
            rows = vendor.rows(method, START, END)
        keys[stream] = {tuple(row[k] for k in pk) for row in rows}
    return keys


def start_read(tmp_path, config, state=None):
    return start_cli_read(tmp_path, config, state=state, streams=list(STREAMS))


def committed_part(lines):
    """What a destination has committed: per stream, the rows (primary key, cursor) before the
    stream's last STATE, and the last STATE messages."""

    def key(stream, data):
        _, pk, cursor = STREAMS[stream]
        return tuple(data.get(k) for k in pk), data.get(cursor)

    return committed_records(lines, key)


def resumed_from(state_message, stream):
    """The earliest row time the resumed sync may read again: the saved cursor minus the lookback."""
    value = state_message["stream"]["stream_state"]
    if stream == "uis_chat_messages":  # the chats (parent) are read again from their cursor minus the lookback
        value = value["parent_state"]["uis_chats"]
    cursor = STREAMS[stream][2]
    return dt.datetime.strptime(value[cursor], FMT) - LOOKBACK


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_killed_uis_sync_resumes_without_losing_a_row(tmp_path, seed):
    rng = random.Random(seed)
    with build_world(latency_seconds=0.01) as emulator:
        vendor = emulator.vendors["uis"]
        for method, count in ROWS.items():
            vendor.timelines[method] = spread(count, START, END)
        config = world_config(emulator, ["uis"], start_date=START, concurrency_level=2)
        expected = expected_keys(vendor)
        total = sum(len(keys) for keys in expected.values())
        kill_after = rng.randint(100, total - 500)  # records printed before the kill
        process = start_read(tmp_path, config)
        lines, records = read_until_killed(process, kill_after)
        assert records >= kill_after, "the sync ended before the kill: make it longer"
        first, states = committed_part(lines)
        assert_no_secrets_in("".join(lines), config)

        process = start_read(tmp_path, config, state=list(states.values()) or None)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        assert_no_secrets_in(out + err, config)
        second, _ = committed_part(out.splitlines())

        for stream, keys in expected.items():
            before, after = first.get(stream, []), second.get(stream, [])
            union = {key for key, _ in before} | {key for key, _ in after}
            assert union == keys, f"{stream}: {len(keys - union)} rows lost after a kill at record {kill_after}"
            # each run alone has no duplicates; across runs, only rows the resumed sync had to read again
            assert len({key for key, _ in after}) == len(after), f"{stream}: duplicates within one run"
            again = {key for key, _ in before} & {key for key, _ in after}
            if again:
                earliest = resumed_from(states[stream], stream)
                times = {key: when for key, when in after}
                late = [key for key in again if dt.datetime.strptime(times[key], FMT) < earliest]
                assert not late, f"{stream}: {len(late)} rows read twice outside the lookback window"

"""ckct.ru date windows: they meet without a gap or an overlap, an empty one is no error, and every
window is checked against `totalLength` (logged, read again once when it comes up short)."""

import datetime as dt

from airbyte_cdk.models import SyncMode

from integration_tests.calltracking.helpers import STREAM, config_of, held_ids, own_ids, read_ids
from integration_tests.helpers import logs
from testkit.connector import error_messages, final_state, run_read, state_for
from testkit.emulator.faults import Fault
from testkit.emulator.world import world_config


def from_day(*day):
    """Matches the requests of the window that starts on this day."""
    start = str(int(dt.datetime(*day, tzinfo=dt.UTC).timestamp()))
    return lambda request: request.query.split("/")[6] == start


def test_window_edges_lose_and_duplicate_nothing(emulator, config):
    """Calls exactly on window boundaries belong to one window only."""
    config["callkeeper_calltracking"]["window_days"] = 1
    output = run_read(config, ["calltracking_calls"], sync_mode=SyncMode.full_refresh)
    ids = [r.record.data["record_id"] for r in output.records]
    assert len(ids) == len(set(ids)) == len(held_ids(emulator, "calltracking_calls"))


def test_no_rows_found_is_an_empty_period_not_an_error(emulator):
    config = world_config(emulator, start_date="2023-01-01", end_date="2023-06-30")
    output = run_read(config, ["calltracking_calls"])
    assert not output.errors
    assert output.records == []


def test_each_window_is_logged_with_its_count_and_the_api_total(world_with):
    emulator = world_with(ckct_page_length=100, ckct_response_shape="envelope", ckct_counters="info")
    output = run_read(config_of(emulator), [STREAM])
    lines = logs(output, "CallKeeper call tracking: stream calltracking_calls, window ")
    held = len(own_ids(emulator, until="2024-01-30T23:59:59"))
    assert (
        "CallKeeper call tracking: stream calltracking_calls, window 2024-01-01 00:00:00 to 2024-01-30 23:59:59 UTC: "
        f"{held} calls, API total {held}." in lines
    )
    assert len(lines) == 2  # one line per window


def test_a_window_that_comes_up_short_once_is_read_again_without_duplicates(world_with):
    emulator = world_with(ckct_page_length=100, ckct_response_shape="envelope", ckct_counters="both")
    # The third page of the first window loses a call, once.
    fault = emulator.faults.add(Fault("ckct", "short", times=1, match=from_day(2024, 1, 1), skip=2))
    output = run_read(config_of(emulator), [STREAM])
    assert not output.errors, error_messages(output)
    assert fault.times == 0
    ids = read_ids(output)
    assert sorted(ids) == own_ids(emulator) and len(ids) == len(set(ids))
    held = len(own_ids(emulator, until="2024-01-30T23:59:59"))
    assert logs(output, "reading the window once more") == [
        f"CallKeeper call tracking: stream calltracking_calls, window 2024-01-01 00:00:00 to 2024-01-30 23:59:59 UTC: "
        f"the API reported {held} calls but sent {held - 1}; reading the window once more."
    ]
    pages = -(-held // 100)
    assert len(emulator.requests_to("ckct", "/call/get/")) == 2 * pages + 1  # the first window twice, the last day once


def test_a_window_that_stays_short_stops_the_stream_and_keeps_the_state_before_it(world_with):
    emulator = world_with(ckct_page_length=100, ckct_response_shape="envelope", ckct_counters="inbound")
    config = config_of(emulator, start_date="2024-01-01", end_date="2024-03-15")
    # Every page of the second window (from 2024-01-31) loses its last call.
    emulator.faults.add(Fault("ckct", "short", times=-1, match=from_day(2024, 1, 31)))
    first = run_read(config, [STREAM])
    stream_errors = [e.trace.error for e in first.errors if e.trace.error.stream_descriptor]
    assert len(stream_errors) == 1, error_messages(first)
    error = stream_errors[0]
    held = len(own_ids(emulator, "2024-01-31", "2024-02-29T23:59:59"))
    assert error.failure_type.value == "system_error"
    assert error.message == (
        f"CallKeeper call tracking: stream calltracking_calls, window 2024-01-31 00:00:00 to 2024-02-29 23:59:59 UTC: "
        f"the API reported {held} calls but sent {held - -(-held // 100)}, on two reads. The stream stopped so that no "
        "calls are lost without a word; the state is kept from before this window, and the next sync reads it again."
    )
    state = final_state(first, STREAM)
    assert state["call_datetime"] <= "2024-01-30 23:59:59"  # not past the window that failed
    # Fixed on the server's side, the next sync reads the window (and what followed) again.
    emulator.faults.clear()
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors, error_messages(second)
    assert set(read_ids(first)) | set(read_ids(second)) == set(own_ids(emulator, until="2024-03-15T23:59:59"))

"""ckct.ru paging: the page length is the server's, and every window is checked against `totalLength`."""

import datetime as dt

import pytest
from airbyte_cdk.models import SyncMode

from testkit.emulator.faults import Fault
from testkit.emulator.world import world_config
from testkit.connector import error_messages, final_state, records_by_stream, run_read, state_for

STREAM = "calltracking_calls"
JANUARY = dict(start_date="2024-01-01", end_date="2024-01-31")  # one 30-day window and a day


def own_ids(emulator, since="2024-01-01", until="2024-01-31T23:59:59"):
    vendor = emulator.vendors["ckct"]
    return sorted(vendor.call_ids(vendor.accounts[0].own, since, until))


def read_ids(output, stream=STREAM):
    return [r["record_id"] for r in records_by_stream(output).get(stream, [])]


def config_of(emulator, **overrides):
    return world_config(emulator, ["callkeeper_calltracking"], **{**JANUARY, **overrides})


def from_day(*day):
    """Matches the requests of the window that starts on this day."""
    start = str(int(dt.datetime(*day, tzinfo=dt.timezone.utc).timestamp()))
    return lambda request: request.query.split("/")[6] == start


def logs(output, text):
    return [m.log.message for m in output.logs if text in m.log.message]


def test_a_server_that_pages_by_50_loses_no_call(world_with):
    """Regression: a page shorter than 1000 was taken for the last one, so a server that pages by 50
    lost every page after the first of each window, with no error."""
    emulator = world_with(ckct_page_length=50, ckct_response_shape="envelope", ckct_counters="inbound")
    output = run_read(config_of(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    assert sorted(read_ids(output)) == own_ids(emulator)
    assert len(own_ids(emulator)) > 50


@pytest.mark.parametrize("counters", ["inbound", "info", "both", "none"])
@pytest.mark.parametrize("page_length", [1, 7, 1000])
def test_every_page_length_and_place_of_the_counters(world_with, counters, page_length):
    emulator = world_with(ckct_page_length=page_length, ckct_response_shape="envelope", ckct_counters=counters)
    output = run_read(config_of(emulator, end_date="2024-01-10"), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    ids = read_ids(output)
    assert sorted(ids) == own_ids(emulator, until="2024-01-10T23:59:59") and len(ids) == len(set(ids))


@pytest.mark.parametrize("past_last_page", ["incorrect_page", "empty_page"])
def test_a_bare_array_is_read_until_the_server_says_the_window_is_done(world_with, past_last_page):
    emulator = world_with(ckct_page_length=40, ckct_response_shape="array", ckct_past_last_page=past_last_page)
    output = run_read(config_of(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    held = own_ids(emulator)
    assert sorted(read_ids(output)) == held
    pages = -(-len(held) // 40)
    # Two windows (30 days and 1): each read to the page that says it is done.
    requests = emulator.requests_to("ckct", "/call/get/")
    assert len(requests) == pages + 2


def test_each_window_is_logged_with_its_count_and_the_api_total(world_with):
    emulator = world_with(ckct_page_length=100, ckct_response_shape="envelope", ckct_counters="info")
    output = run_read(config_of(emulator), [STREAM])
    lines = logs(output, "CallKeeper call tracking: stream calltracking_calls, window ")
    held = len(own_ids(emulator, until="2024-01-30T23:59:59"))
    assert f"CallKeeper call tracking: stream calltracking_calls, window 2024-01-01 00:00:00 to 2024-01-30 23:59:59 UTC: {held} calls, API total {held}." in lines
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
        f"the API reported {held} calls but sent {held - 1}; reading the window once more."]
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
        "calls are lost without a word; the state is kept from before this window, and the next sync reads it again.")
    state = final_state(first, STREAM)
    assert state["call_datetime"] <= "2024-01-30 23:59:59"  # not past the window that failed
    # Fixed on the server's side, the next sync reads the window (and what followed) again.
    emulator.faults.clear()
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors, error_messages(second)
    assert set(read_ids(first)) | set(read_ids(second)) == set(own_ids(emulator, until="2024-03-15T23:59:59"))

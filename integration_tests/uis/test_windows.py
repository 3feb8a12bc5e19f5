"""UIS date windows: within the API's three months, meeting exactly; a window over 110000 rows is split;
every window is checked against `metadata.total_items` (logged, read again once when it comes up short)."""

import datetime as dt

import yaml
from airbyte_cdk.models import SyncMode

from integration_tests.helpers import ROOT, logs
from integration_tests.uis.helpers import asked_utc_range, bodies, to_window, uis, uis_config, utc_window_of, window_of
from testkit.connector import error_messages, final_state, records_by_stream, run_read, state_for
from testkit.emulator.faults import Fault
from testkit.emulator.timeline import spread
from testkit.emulator.uis import MAX_OFFSET, add_months
from testkit.emulator.world import world_config

STREAM, METHOD = "uis_calls", "get.calls_report"
# Three windows of 88 days: 2024-01-01..03-28, 03-29..06-24, 06-25..06-30.
CONFIG = dict(start_date="2024-01-01", end_date="2024-06-30")


def ids(output):
    return [r["id"] for r in records_by_stream(output).get(STREAM, [])]


def held(emulator, since="2024-01-01", until="2024-06-30T23:59:59"):
    return emulator.vendors["uis"].ids(METHOD, since, until)


def test_a_sync_prints_no_warning_that_windows_are_never_split(full_refresh):
    # The CDK cannot see the SPLIT_REQUEST_WINDOW filter inside the custom error handler and warns
    # once per stream; the connector drops that warning because the filter is there:
    _, output = full_refresh
    assert not [m for m in output.logs if "request_window_splitting" in (m.log.message or "")]
    manifest = yaml.safe_load((ROOT / "source_calltracking" / "manifest.yaml").read_text())
    uis_definitions = manifest["definitions"]["uis"]
    assert uis_definitions["filters"]["too_many_rows"]["action"] == "SPLIT_REQUEST_WINDOW"
    assert "#/definitions/uis/filters/too_many_rows" in uis_definitions["windowed_error_handler"]["response_filters"]
    assert uis_definitions["report_stream"]["retriever"]["requester"] == "#/definitions/uis/windowed_requester"


def test_ten_months_are_read_in_windows_within_the_limit(emulator):
    vendor = uis(emulator)
    vendor.timelines["get.calls_report"] = spread(2000, "2023-03-01", "2023-12-31T23:59:59")
    output = run_read(uis_config(emulator, start_date="2023-03-01", end_date="2023-12-31"), ["uis_calls"])
    assert not output.errors, error_messages(output)
    ids = [r.record.data["id"] for r in output.records]
    assert sorted(ids) == sorted(set(ids)) == sorted(vendor.ids("get.calls_report"))
    windows = sorted(utc_window_of(emulator, b) for b in bodies(emulator, "get.calls_report"))
    assert len(windows) == 4  # 306 days in windows of 88 days
    assert windows[0][0] == dt.datetime(2023, 3, 1) and windows[-1][1] == dt.datetime(2023, 12, 31, 23, 59, 59)
    for (_, until), (next_since, _) in zip(windows, windows[1:], strict=False):
        assert next_since == until + dt.timedelta(seconds=1)  # no gap, no overlap
    for since, until in (window_of(b) for b in bodies(emulator, "get.calls_report")):  # as asked, in the account's zone
        assert until - since < dt.timedelta(days=89)  # under "3 months" (at least 89 days) and under "90 days" alike
        assert until <= add_months(since, 3)


def test_a_window_from_february_stays_within_three_months_with_its_margins(emulator):
    """Regression: with windows of 89 days, the window from 2023-02-01 was asked one second wider at
    each end (January 31 23:59:59 to May 1 00:00:00 in UTC, likewise in every account zone), a second
    over the 3 months February to May allow, and the API refused it (date_interval_limit_reached)."""
    vendor = uis(emulator)
    vendor.timelines["get.calls_report"] = spread(500, "2023-02-01", "2023-06-30T23:59:59")
    output = run_read(uis_config(emulator, start_date="2023-02-01", end_date="2023-06-30"), ["uis_calls"])
    assert not output.errors, error_messages(output)
    assert vendor.errors_sent == []
    assert sorted(r.record.data["id"] for r in output.records) == vendor.ids("get.calls_report")
    for since, until in (window_of(b) for b in bodies(emulator, "get.calls_report")):
        assert until <= add_months(since, 3)


def test_a_window_over_110000_rows_is_split_and_read_completely(emulator):
    vendor = uis(emulator)
    method = "get.financial_call_legs_report"
    vendor.timelines[method] = spread(112_000, "2024-01-02", "2024-01-20")
    output = run_read(
        uis_config(emulator, start_date="2024-01-01", end_date="2024-01-31"),
        ["uis_financial_call_legs"],
        sync_mode=SyncMode.full_refresh,
    )
    assert not output.errors, error_messages(output)
    keys = [(r.record.data["call_session_id"], r.record.data["leg_id"]) for r in output.records]
    assert len(keys) == len(set(keys)) == 112_000
    sent = bodies(emulator, method)
    assert max(b["params"]["offset"] for b in sent) <= MAX_OFFSET
    assert all(b["params"]["limit"] == 10000 for b in sent)
    # The 31-day window held all rows: it was split, and the windows actually paged hold <= 110000 rows each
    # (counted over what each request asked: its window, a second wider at each end).
    paged = {asked_utc_range(emulator, b) for b in sent if b["params"]["offset"] > 0}
    assert len(paged) >= 2
    for since, until in paged:
        lo, hi = vendor.timelines[method].index_range(since.replace(tzinfo=dt.UTC), until.replace(tzinfo=dt.UTC))
        assert hi - lo <= 110_000
        offsets = sorted(b["params"]["offset"] for b in sent if asked_utc_range(emulator, b) == (since, until))
        assert offsets == list(range(0, hi - lo, 10000))  # every page once, stopping at total_items


def test_each_window_is_logged_with_its_rows_and_the_api_total(emulator):
    output = run_read(world_config(emulator, ["uis"], **CONFIG), [STREAM])
    assert not output.errors, error_messages(output)
    first = len(held(emulator, until="2024-03-28T23:59:59"))
    lines = logs(output, "UIS: stream uis_calls, window ")
    assert (
        f"UIS: stream uis_calls, window 2024-01-01 00:00:00 to 2024-03-28 23:59:59 UTC: {first} rows, API total {first}." in lines
    )
    assert len(lines) == 3


def test_a_window_that_comes_up_short_once_is_read_again_without_duplicates(emulator):
    fault = emulator.faults.add(Fault("uis", "short", times=1, match=to_window(emulator, METHOD, "2024-01-01 00:00:00")))
    output = run_read(world_config(emulator, ["uis"], **CONFIG), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    assert fault.times == 0
    got = ids(output)
    assert sorted(got) == held(emulator) and len(got) == len(set(got))
    first = len(held(emulator, until="2024-03-28T23:59:59"))
    assert logs(output, "once more") == [
        f"UIS: stream uis_calls, window 2024-01-01 00:00:00 to 2024-03-28 23:59:59 UTC: the API reported {first} rows "
        f"but sent {first - 1} (1 of them sent twice); reading the window once more."
    ]
    # The short page, the page at the next offset (which repeats a row), the window once more, and
    # one page for each of the other two windows: nothing else was asked.
    assert len([b for b in emulator.vendors["uis"].log if b.get("method") == METHOD]) == 5


def test_a_window_that_stays_short_stops_the_stream_and_keeps_the_state_before_it(emulator):
    config = world_config(emulator, ["uis"], **CONFIG)
    emulator.faults.add(Fault("uis", "short", times=-1, match=to_window(emulator, METHOD, "2024-03-29 00:00:00")))
    first = run_read(config, [STREAM])
    errors = [e.trace.error for e in first.errors if e.trace.error.stream_descriptor]
    assert len(errors) == 1, error_messages(first)
    in_window = len(held(emulator, "2024-03-29", "2024-06-24T23:59:59"))
    assert errors[0].failure_type.value == "system_error"
    assert errors[0].message == (
        f"UIS: stream uis_calls, window 2024-03-29 00:00:00 to 2024-06-24 23:59:59 UTC: the API reported {in_window} rows "
        f"but sent {in_window - 1}, on two reads. The stream stopped so that no rows are lost without a word; the state "
        "is kept from before this window, and the next sync reads it again."
    )
    state = final_state(first, STREAM)
    assert state["event_time_utc"] <= "2024-03-28T23:59:59Z"
    emulator.faults.clear()
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors, error_messages(second)
    assert set(ids(first)) | set(ids(second)) == set(held(emulator))

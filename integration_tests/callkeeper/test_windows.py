"""CallKeeper REST API date windows: one request per window, in the document's form and in `time_zone`,
meeting exactly (across a daylight saving change too); an empty period is no error."""

import datetime as dt
import re

import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.callkeeper.helpers import WINDOWED, ck_config, held_ids, params_of, vendor
from testkit.connector import error_messages, final_state, records_by_stream, run_read
from testkit.emulator.world import CALLKEEPER_API_KEY, world_config

DOCUMENTED_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")  # the document's 2005-08-15T23:59:59


def test_each_stream_spends_one_request_per_window_and_windows_meet_exactly(emulator):
    """60 days in windows of 10: 6 requests per stream, each window asked for in the document's form
    one second wider at each end, in `time_zone` (UTC when none is configured), always sent."""
    config = ck_config(emulator, window_days=10)
    config["end_date"] = "2024-02-29"
    output = run_read(config, list(WINDOWED))
    assert not output.errors, error_messages(output)
    for stream, method in WINDOWED.items():
        requests = [params_of(r) for r in emulator.requests_to("callkeeper", "/" + method + "?")]
        assert len(requests) == 6, stream
        assert all(DOCUMENTED_BOUND.fullmatch(p["date[from]"]) and DOCUMENTED_BOUND.fullmatch(p["date[to]"]) for p in requests)
        assert {p["time_zone"] for p in requests} == {"UTC"}
        windows = sorted((p["date[from]"], p["date[to]"]) for p in requests)
        assert windows[0][0] == "2023-12-31T23:59:59" and windows[-1][1] == "2024-03-01T00:00:00"
        for (_, previous_end), (next_start, _) in zip(windows, windows[1:], strict=False):
            # The previous window asked up to the next one's first second; the next from the previous one's last.
            assert dt.datetime.fromisoformat(next_start) == dt.datetime.fromisoformat(previous_end) - dt.timedelta(seconds=1)
        key_param = "apiak" if method == "getT2C" else "api_key"
        assert all(p[key_param] == CALLKEEPER_API_KEY for p in requests)
        assert all(("api_key" in p) != ("apiak" in p) for p in requests)
    got = records_by_stream(output)
    for stream in WINDOWED:
        ids = [int(r["id"]) for r in got[stream]]
        assert sorted(ids) == held_ids(emulator, stream, until="2024-02-29T23:59:59") and len(ids) == len(set(ids))


def test_the_window_goes_out_as_wall_clock_time_in_the_time_zone(emulator):
    """Regression: the bounds went out as 2024-01-01T00:00:00+00:00, a form the document never shows,
    which a server that reads only its documented forms answers with 406 "Wrong data type!"."""
    output = run_read(
        ck_config(emulator, time_zone="Asia/Vladivostok", window_days=31), ["callkeeper_calls", "callkeeper_tap2calls"]
    )
    assert not output.errors, error_messages(output)
    requests = [params_of(r) for r in emulator.requests_to("callkeeper")]
    assert {p.get("time_zone") for p in requests} == {"Asia/Vladivostok"}
    assert min(p["date[from]"] for p in requests) == "2024-01-01T09:59:59"  # 2023-12-31 23:59:59 UTC, at UTC+10
    got = records_by_stream(output)
    assert sorted(int(r["id"]) for r in got["callkeeper_calls"]) == held_ids(emulator, "callkeeper_calls")
    assert sorted(int(r["id"]) for r in got["callkeeper_tap2calls"]) == held_ids(emulator, "callkeeper_tap2calls")


@pytest.mark.parametrize("to_bound", ["inclusive", "exclusive"])
@pytest.mark.parametrize("repeated_hour", [0, 1])
def test_windows_meet_without_a_gap_or_an_overlap_across_a_daylight_saving_change(world_with, to_bound, repeated_hour):
    """Kyiv turns its clocks back at 04:00 on 2024-10-27 (01:00 UTC): 03:00-04:00 happens twice. A
    window boundary at 00:30 UTC falls inside it, with a call every 30 s around it. Whichever way the
    server reads `date[to]` and the repeated hour, every call arrives once."""
    emulator = world_with(callkeeper_to_bound=to_bound, callkeeper_repeated_hour=repeated_hour)
    calls = vendor(emulator).accounts[0].calls
    calls.start, calls.step_seconds, calls.count = dt.datetime(2024, 10, 26, 20, tzinfo=dt.UTC), 30, 1200  # 20:00-06:00 UTC
    config = world_config(emulator, ["callkeeper"], start_date="2024-10-20T00:30:00Z", end_date="2024-10-31")
    config["callkeeper"].update(time_zone="Europe/Kyiv", window_days=7)
    output = run_read(config, ["callkeeper_calls"], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    ids = [int(r["id"]) for r in records_by_stream(output)["callkeeper_calls"]]
    assert len(ids) == len(set(ids)) == 1200
    assert sorted(ids) == held_ids(emulator, "callkeeper_calls", "2024-10-20", "2024-11-01")
    bounds = {params_of(r)["date[to]"] for r in emulator.requests_to("callkeeper", "/getCallsInfo")}
    assert "2024-10-27T04:00:00" in bounds  # moved out of the repeated hour, to a time that happens once


def test_a_period_without_calls_is_empty_not_an_error(emulator):
    config = ck_config(emulator)
    config.update(start_date="2023-01-01", end_date="2023-03-31")
    output = run_read(config, list(WINDOWED))
    assert not output.errors
    assert output.records == []
    assert all(final_state(output, stream) for stream in WINDOWED)

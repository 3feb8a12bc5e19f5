"""CallKeeper REST API incremental syncs: the next sync reads the new calls and the lookback, and asks from there."""

import datetime as dt

from integration_tests.callkeeper.helpers import ck_config, held_ids, params_of, vendor
from testkit.connector import final_state, run_read, state_for


def test_incremental_round_trip_returns_new_calls_and_the_lookback(emulator):
    config = ck_config(emulator, window_days=31)
    config["end_date"] = "2024-06-30"
    calls = vendor(emulator).accounts[0].calls
    first = run_read(config, ["callkeeper_calls"])
    assert len(first.records) == 1500
    state = final_state(first, "callkeeper_calls")
    assert state["date"] == calls.last_time.strftime("%Y-%m-%d %H:%M:%S")

    calls.count += 300  # new calls arrive after the first sync (into May)
    emulator.clear_log()
    second = run_read(config, ["callkeeper_calls"], state=state_for({"callkeeper_calls": state}))
    assert not second.errors
    cursor = dt.datetime.fromisoformat(state["date"])
    expected = held_ids(emulator, "callkeeper_calls", (cursor - dt.timedelta(days=1)).isoformat(), "2100-01-01")
    assert sorted(int(r.record.data["id"]) for r in second.records) == sorted(expected)
    assert len(expected) > 300
    assert final_state(second, "callkeeper_calls")["date"] == calls.last_time.strftime("%Y-%m-%d %H:%M:%S")
    first_window = min(params_of(r)["date[from]"] for r in emulator.requests_to("callkeeper", "/getCallsInfo"))
    assert first_window == (cursor - dt.timedelta(days=1, seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")

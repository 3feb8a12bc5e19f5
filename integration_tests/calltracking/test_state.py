"""ckct.ru incremental syncs: the next sync reads the new calls and the lookback, and nothing before it."""

import datetime as dt

from integration_tests.calltracking.helpers import ckct
from testkit.connector import final_state, run_read, state_for
from testkit.emulator.world import world_config


def test_incremental_round_trip_returns_new_calls_and_the_lookback(emulator):
    config = world_config(emulator)
    del config["end_date"]
    account = ckct(emulator).accounts[0]
    first = run_read(config, ["calltracking_calls"])
    assert len(first.records) == account.own.count
    state = final_state(first, "calltracking_calls")
    assert state["call_datetime"] == account.own.last_time.strftime("%Y-%m-%d %H:%M:%S")

    account.own.count += 300  # new calls arrive after the first sync
    second = run_read(config, ["calltracking_calls"], state=state_for({"calltracking_calls": state}))
    assert not second.errors
    got = sorted(r.record.data["record_id"] for r in second.records)
    cursor = dt.datetime.strptime(state["call_datetime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    expected = ckct(emulator).call_ids(account.own, (cursor - dt.timedelta(days=1)).isoformat(), "2100-01-01")
    assert got == sorted(expected)
    assert final_state(second, "calltracking_calls")["call_datetime"] == account.own.last_time.strftime("%Y-%m-%d %H:%M:%S")

"""RIA.com incremental syncs: the next sync reads the new calls and the lookback day, at day granularity."""

from integration_tests.ria.helpers import STREAM, ids, ria_config, vendor, windows
from testkit.connector import final_state, run_read, state_for


def test_incremental_round_trip_returns_new_calls_and_the_lookback_day(emulator):
    calls = vendor(emulator).accounts[0].calls
    config = ria_config(emulator)
    first = run_read(config, [STREAM])
    assert len(first.records) == 1200
    state = final_state(first, STREAM)
    assert state == {"date": "2024-04-30"}

    calls.count += 100  # new calls arrive (into May)
    last_day = calls.last_time.strftime("%Y-%m-%d")
    assert last_day > "2024-05-01"
    emulator.clear_log()
    config["end_date"] = "2024-05-31"
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors
    # The lookback (1 day) re-reads 29 April, at day granularity; nothing before it.
    assert ids(second) == vendor(emulator).call_ids("2024-04-29", "2024-05-31")
    assert windows(emulator) == [("2024-04-29", "2024-05-29"), ("2024-05-30", "2024-05-31")]
    assert final_state(second, STREAM) == {"date": last_day}

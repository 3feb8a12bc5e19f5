"""RIA.com incremental syncs: the state is the `event_time_utc` of the latest call read, and the next
sync reads the new calls and the lookback day before that instant, in windows asked one Kyiv day wider
at each end."""

import datetime as dt

from integration_tests.ria.helpers import (
    STREAM,
    ids,
    last_call_state,
    request_days,
    ria_config,
    truth_of_windows,
    utc_windows,
    windows,
)
from testkit.connector import final_state, run_read, state_for
from testkit.emulator.timeline import iso_z, parse_utc


def test_incremental_round_trip_returns_new_calls_and_the_lookback_day(emulator):
    calls = emulator.vendors["ria"].accounts[0].calls
    config = ria_config(emulator)
    first = run_read(config, [STREAM])
    assert len(first.records) == 1200
    state = final_state(first, STREAM)
    assert state == last_call_state(emulator, utc_windows(config)) == {"event_time_utc": iso_z(calls.last_time)}

    calls.count += 100  # new calls arrive (into May)
    assert calls.last_time.strftime("%Y-%m-%d") > "2024-05-01"
    emulator.clear_log()
    config["end_date"] = "2024-05-31"
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors
    # The lookback (1 day) re-reads the day before the state's instant; nothing before it.
    spans = utc_windows(config, since=parse_utc(state["event_time_utc"]) - dt.timedelta(days=1))
    assert ids(second) == sorted(truth_of_windows(emulator, spans))
    assert min(r.record.data["event_time_utc"] for r in second.records) >= iso_z(spans[0][0])
    assert windows(emulator) == sorted(request_days(w) for w in spans) and len(spans) == 2
    assert final_state(second, STREAM) == {"event_time_utc": iso_z(calls.last_time)}

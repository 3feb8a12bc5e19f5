"""CallKeeper REST with two accounts in one block (`callkeeper.accounts`): every call of each, tagged with
its name; a state per account; one account's bad key named, the other's calls and state kept.

The truth is the emulator's (`expected`, {id: UTC instant of `date`}). The document says a call's `Id`
is unique in the CallKeeper system, so calls keep `id` as their key; `callkeeper_user` is one record per
account, keyed by `account`."""

import datetime as dt

from integration_tests.callkeeper.helpers import WINDOWED, vendor
from testkit.connector import (
    connection_status,
    error_messages,
    final_state,
    records_by_stream,
    run_check,
    run_discover,
    run_read,
    state_for,
)
from testkit.emulator.world import (
    CALLKEEPER_API_KEY,
    CALLKEEPER_SECOND_API_KEY,
    CALLKEEPER_STATUSES,
    END_DATE,
    START_DATE,
    accounts_block,
)

PROVIDER = "CallKeeper"
STREAMS = list(WINDOWED)
KEYS = {"A": CALLKEEPER_API_KEY, "B": CALLKEEPER_SECOND_API_KEY}
UNTIL = "2024-05-01T00:00:00Z"  # end_date 2024-04-30 includes that whole day
LOOKBACK = dt.timedelta(days=1)


def config_of(emulator, names=("A", "B"), **overrides):
    block = accounts_block(emulator, "callkeeper")
    block["accounts"] = [a for a in block["accounts"] if a["name"] in names]
    return {"start_date": START_DATE, "end_date": END_DATE, "lookback_window_days": 1, "callkeeper": block, **overrides}


def truth(emulator, stream, name, since=START_DATE, until=UNTIL):
    statuses = CALLKEEPER_STATUSES if stream == "callkeeper_calls_by_status" else ()
    return vendor(emulator).expected(KEYS[name], WINDOWED[stream], since, until, statuses)


def read_per_account(output, stream):
    """{account: {id: event_time_utc}}, asserting that no id came twice (it is the primary key)."""
    found, seen = {}, set()
    for record in records_by_stream(output).get(stream, []):
        call_id = int(record["id"])
        assert call_id not in seen, f"{stream}: id {call_id} came twice"
        seen.add(call_id)
        found.setdefault(record["account"], {})[call_id] = record["event_time_utc"]
    return found


def cursors(state):
    return {s["partition"]["account"]: s["cursor"]["date"] for s in state["states"]}


def as_cursor(utc_z):
    return dt.datetime.strptime(utc_z, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M:%S")


def since_lookback(cursor):
    moment = dt.datetime.strptime(cursor, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    return (moment - LOOKBACK).isoformat()


def test_discover_keeps_the_call_id_as_key_and_keys_the_user_by_account(emulator):
    catalog = run_discover(config_of(emulator)).catalog.catalog
    keys = {s.name: s.source_defined_primary_key for s in catalog.streams}
    assert keys == {**{stream: [["id"]] for stream in STREAMS}, "callkeeper_user": [["account"]]}


def test_a_sync_reads_every_call_of_both_accounts_each_tagged_with_its_name(emulator):
    output = run_read(config_of(emulator), STREAMS + ["callkeeper_user"])
    assert not output.errors
    for stream in STREAMS:
        got = read_per_account(output, stream)
        assert set(got) == {"A", "B"}, stream
        for name in ("A", "B"):
            expected = truth(emulator, stream, name)
            assert expected, (stream, name)
            assert got[name] == expected, (stream, name)
        assert set(cursors(final_state(output, stream))) == {"A", "B"}
    users = {r["account"]: r["id"] for r in records_by_stream(output)["callkeeper_user"]}
    assert len(records_by_stream(output)["callkeeper_user"]) == 2
    assert users == {name: vendor(emulator).account_of(key).user["id"] for name, key in KEYS.items()}


def test_an_incremental_round_trip_per_account_loses_and_repeats_nothing_outside_the_lookback(emulator):
    first = run_read(config_of(emulator, end_date="2024-02-29"), STREAMS)
    assert not first.errors
    states = {}
    for stream in STREAMS:
        got = read_per_account(first, stream)
        for name in ("A", "B"):
            assert got[name] == truth(emulator, stream, name, until="2024-03-01T00:00:00Z"), (stream, name)
        states[stream] = final_state(first, stream)
        assert cursors(states[stream]) == {name: as_cursor(max(got[name].values())) for name in ("A", "B")}, stream

    second = run_read(config_of(emulator), STREAMS, state=state_for(states))
    assert not second.errors
    for stream in STREAMS:
        got = read_per_account(second, stream)
        before = cursors(states[stream])
        for name in ("A", "B"):
            assert got[name] == truth(emulator, stream, name, since=since_lookback(before[name])), (stream, name)
        assert cursors(final_state(second, stream)) == {
            name: as_cursor(max(truth(emulator, stream, name).values())) for name in ("A", "B")
        }, stream


def test_adding_an_account_keeps_the_state_of_the_first_and_reads_the_new_one_from_start_date(emulator):
    stream = "callkeeper_calls"
    first = run_read(config_of(emulator, names=("A",), end_date="2024-02-29"), [stream])
    assert not first.errors
    state = final_state(first, stream)
    assert set(cursors(state)) == {"A"}
    cursor_a = cursors(state)["A"]

    second = run_read(config_of(emulator), [stream], state=state_for({stream: state}))
    assert not second.errors
    got = read_per_account(second, stream)
    assert got["A"] == truth(emulator, stream, "A", since=since_lookback(cursor_a))
    assert got["B"] == truth(emulator, stream, "B")


def bad_b(config):
    config["callkeeper"]["accounts"][1]["api_key"] = "0123456789abcdef0123456789abcdef"  # well-formed, unknown
    return config


def test_a_bad_key_in_one_account_names_it_and_keeps_the_other_accounts_calls_and_state(emulator):
    stream = "callkeeper_calls"
    output = run_read(bad_b(config_of(emulator)), [stream, "callkeeper_user"])
    messages = error_messages(output)
    assert messages
    assert messages[0].startswith(f"{PROVIDER}, account «B»: ") and "Not the correct key api" in messages[0], messages[0]
    assert "api_key of «B» in callkeeper.accounts" in messages[0]
    assert all("«B»" in m and "«A»" not in m for m in messages), messages
    got = read_per_account(output, stream)
    assert set(got) == {"A"}
    assert got["A"] == truth(emulator, stream, "A")
    assert [r["account"] for r in records_by_stream(output)["callkeeper_user"]] == ["A"]
    state = final_state(output, stream)
    cursor_a = as_cursor(max(got["A"].values()))
    assert cursors(state)["A"] == cursor_a
    assert cursors(state).get("B", "2024-01-01 00:00:00") == "2024-01-01 00:00:00"  # B advanced by nothing

    again = run_read(config_of(emulator), [stream], state=state_for({stream: state}))
    assert not again.errors
    got = read_per_account(again, stream)
    assert got["A"] == truth(emulator, stream, "A", since=since_lookback(cursor_a))
    assert got["B"] == truth(emulator, stream, "B")


def test_check_names_the_failing_account(emulator):
    assert connection_status(run_check(config_of(emulator))).status.name == "SUCCEEDED"
    status = connection_status(run_check(bad_b(config_of(emulator))))
    assert status.status.name == "FAILED"
    assert status.message.startswith(f"{PROVIDER}, account «B»: ") and "«A»" not in status.message, status.message

    config = bad_b(config_of(emulator))
    config["callkeeper"]["accounts"][0]["api_key"] = "fedcba9876543210fedcba9876543210"
    status = connection_status(run_check(config))
    assert status.status.name == "FAILED"
    assert "account «A»" in status.message and "account «B»" in status.message, status.message

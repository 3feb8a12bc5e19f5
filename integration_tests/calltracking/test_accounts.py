"""ckct.ru with two accounts in one block (`callkeeper_calltracking.accounts`): every call of each, tagged
with its name; a state per account; one account's bad key named, the other's calls and state kept.

The truth is the emulator's (`expected`, {id: UTC instant}); account «B» is the world's second account,
whose server renders `callTime` in Asia/Yekaterinburg, so its block sets that `time_zone`."""

import datetime as dt

from integration_tests.calltracking.helpers import ckct
from integration_tests.helpers import Read, sent_without_time
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
    CKCT_API_KEY,
    CKCT_SECOND_API_KEY,
    CKCT_SECOND_SERVER_ZONE,
    END_DATE,
    START_DATE,
    accounts_block,
)

PROVIDER = "CallKeeper call tracking"
METHODS = {"calltracking_calls": "get", "calltracking_calls_by_role": "getByRole", "calltracking_calls_with_role": "getWithRole"}
STREAMS = list(METHODS)
KEYS = {"A": CKCT_API_KEY, "B": CKCT_SECOND_API_KEY}
UNTIL = "2024-05-01T00:00:00Z"  # end_date 2024-04-30 includes that whole day
LOOKBACK = dt.timedelta(days=1)


def config_of(emulator, names=("A", "B"), **overrides):
    block = accounts_block(emulator, "callkeeper_calltracking")
    for account in block["accounts"]:
        if account["name"] == "B":
            account["time_zone"] = CKCT_SECOND_SERVER_ZONE
    block["accounts"] = [a for a in block["accounts"] if a["name"] in names]
    return {
        "start_date": START_DATE,
        "end_date": END_DATE,
        "lookback_window_days": 1,
        "callkeeper_calltracking": block,
        **overrides,
    }


def truth(emulator, stream, name, since=START_DATE, until=UNTIL):
    return ckct(emulator).expected(KEYS[name], METHODS[stream], since, until)


def read_per_account(output, stream):
    """{account: Read} of a stream, asserting no call came twice for one account."""
    found = {}
    for record in records_by_stream(output).get(stream, []):
        calls = found.setdefault(record["account"], Read())
        assert record["record_id"] not in calls, f"{stream}: {record['record_id']} of «{record['account']}» came twice"
        calls[record["record_id"]] = record["event_time_utc"]
        if sent_without_time(record):
            calls.untimed.add(record["record_id"])
    return found


def cursors(state):
    return {s["partition"]["account"]: s["cursor"]["call_datetime"] for s in state["states"]}


def as_cursor(utc_z):
    return dt.datetime.strptime(utc_z, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M:%S")


def since_lookback(cursor):
    moment = dt.datetime.strptime(cursor, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    return (moment - LOOKBACK).isoformat()


def test_discover_declares_the_account_in_the_primary_key(emulator):
    catalog = run_discover(config_of(emulator)).catalog.catalog
    keys = {s.name: s.source_defined_primary_key for s in catalog.streams}
    assert keys == {stream: [["account"], ["record_id"]] for stream in STREAMS}


def test_a_sync_reads_every_call_of_both_accounts_each_tagged_with_its_name(emulator):
    output = run_read(config_of(emulator), STREAMS)
    assert not output.errors
    for stream in STREAMS:
        got = read_per_account(output, stream)
        assert set(got) == {"A", "B"}, stream
        for name in ("A", "B"):
            expected = truth(emulator, stream, name)
            assert expected, (stream, name)
            assert got[name] == expected, (stream, name)
        assert len(records_by_stream(output)[stream]) == sum(len(v) for v in got.values())
        assert set(cursors(final_state(output, stream))) == {"A", "B"}


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
            # From the account's own cursor minus the lookback, to the end: nothing lost, nothing older repeated.
            assert got[name] == truth(emulator, stream, name, since=since_lookback(before[name])), (stream, name)
        assert cursors(final_state(second, stream)) == {name: as_cursor(max(got[name].values())) for name in ("A", "B")}, stream


def test_adding_an_account_keeps_the_state_of_the_first_and_reads_the_new_one_from_start_date(emulator):
    stream = "calltracking_calls_with_role"
    first = run_read(config_of(emulator, names=("A",), end_date="2024-02-29"), [stream])
    assert not first.errors
    state = final_state(first, stream)
    assert set(cursors(state)) == {"A"}
    cursor_a = cursors(state)["A"]

    second = run_read(config_of(emulator), [stream], state=state_for({stream: state}))
    assert not second.errors
    got = read_per_account(second, stream)
    assert got["A"] == truth(emulator, stream, "A", since=since_lookback(cursor_a))
    assert got["B"] == truth(emulator, stream, "B")  # the new account: its whole history


def bad_b(config):
    config["callkeeper_calltracking"]["accounts"][1]["api_key"] = "zz9zz9zz9zz9zz9z"  # well-formed, unknown
    return config


def test_a_bad_key_in_one_account_names_it_and_keeps_the_other_accounts_calls_and_state(emulator):
    stream = "calltracking_calls"
    output = run_read(bad_b(config_of(emulator)), [stream])
    messages = error_messages(output)
    assert messages
    assert messages[0].startswith(f"{PROVIDER}, account «B»: ") and "User is not recognized" in messages[0], messages[0]
    assert "api_key of «B» in callkeeper_calltracking.accounts" in messages[0]
    assert all("«B»" in m and "«A»" not in m for m in messages), messages
    got = read_per_account(output, stream)
    assert set(got) == {"A"}
    assert got["A"] == truth(emulator, stream, "A")
    state = final_state(output, stream)
    cursor_a = as_cursor(max(got["A"].values()))
    assert cursors(state)["A"] == cursor_a
    assert cursors(state).get("B", "2024-01-01 00:00:00") == "2024-01-01 00:00:00"  # B advanced by nothing

    # With B's key mended, the next sync reads B from start_date and A only from its own cursor's lookback.
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
    config["callkeeper_calltracking"]["accounts"][0]["api_key"] = "yy8yy8yy8yy8yy8y"
    status = connection_status(run_check(config))
    assert status.status.name == "FAILED"
    assert "account «A»" in status.message and "account «B»" in status.message, status.message

"""RIA.com with two accounts in one block (`ria.accounts`): every call of each, tagged with its name; a state
per account; one account's bad key named, the other's calls and state kept.

The truth is the emulator's (`expected`, {call_id: UTC instant}). The document calls `call_id` the unique
ID of a call, so it stays the key. Account «B» holds calls at Kyiv midnights and around Kyiv's DST change."""

import datetime as dt

from integration_tests.ria.helpers import STREAM, vendor
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
from testkit.emulator.world import END_DATE, RIA_API_KEY, RIA_SECOND_API_KEY, START_DATE, accounts_block

PROVIDER = "RIA.com"
KEYS = {"A": RIA_API_KEY, "B": RIA_SECOND_API_KEY}
UNTIL = "2024-05-01T00:00:00Z"  # end_date 2024-04-30 includes that whole day
LOOKBACK = dt.timedelta(days=1)


def config_of(emulator, names=("A", "B"), **overrides):
    block = accounts_block(emulator, "ria")
    block["accounts"] = [a for a in block["accounts"] if a["name"] in names]
    return {"start_date": START_DATE, "end_date": END_DATE, "lookback_window_days": 1, "ria": block, **overrides}


def truth(emulator, name, since=START_DATE, until=UNTIL):
    return vendor(emulator).expected(KEYS[name], since, until)


def read_per_account(output):
    """{account: {call_id: event_time_utc}}, asserting that no call_id came twice (it is the primary key)."""
    found, seen = {}, set()
    for record in records_by_stream(output).get(STREAM, []):
        assert record["call_id"] not in seen, f"call {record['call_id']} came twice"
        seen.add(record["call_id"])
        found.setdefault(record["account"], {})[record["call_id"]] = record["event_time_utc"]
    return found


def cursors(state):
    return {s["partition"]["account"]: s["cursor"]["event_time_utc"] for s in state["states"]}


def since_lookback(cursor):
    return (dt.datetime.fromisoformat(cursor.replace("Z", "+00:00")) - LOOKBACK).isoformat()


def test_discover_keeps_the_call_id_as_key(emulator):
    catalog = run_discover(config_of(emulator)).catalog.catalog
    assert {s.name: s.source_defined_primary_key for s in catalog.streams} == {STREAM: [["call_id"]]}


def test_a_sync_reads_every_call_of_both_accounts_each_tagged_with_its_name(emulator):
    output = run_read(config_of(emulator), [STREAM])
    assert not output.errors
    got = read_per_account(output)
    assert set(got) == {"A", "B"}
    for name in ("A", "B"):
        assert got[name] == truth(emulator, name), name
    assert cursors(final_state(output, STREAM)) == {name: max(truth(emulator, name).values()) for name in ("A", "B")}


def test_an_incremental_round_trip_per_account_loses_and_repeats_nothing_outside_the_lookback(emulator):
    first = run_read(config_of(emulator, end_date="2024-02-29"), [STREAM])
    assert not first.errors
    got = read_per_account(first)
    for name in ("A", "B"):
        assert got[name] == truth(emulator, name, until="2024-03-01T00:00:00Z"), name
    state = final_state(first, STREAM)
    before = cursors(state)
    assert before == {name: max(got[name].values()) for name in ("A", "B")}

    second = run_read(config_of(emulator), [STREAM], state=state_for({STREAM: state}))
    assert not second.errors
    got = read_per_account(second)
    for name in ("A", "B"):
        assert got[name] == truth(emulator, name, since=since_lookback(before[name])), name
    assert cursors(final_state(second, STREAM)) == {name: max(truth(emulator, name).values()) for name in ("A", "B")}


def test_adding_an_account_keeps_the_state_of_the_first_and_reads_the_new_one_from_start_date(emulator):
    first = run_read(config_of(emulator, names=("A",), end_date="2024-02-29"), [STREAM])
    assert not first.errors
    state = final_state(first, STREAM)
    assert set(cursors(state)) == {"A"}
    cursor_a = cursors(state)["A"]

    second = run_read(config_of(emulator), [STREAM], state=state_for({STREAM: state}))
    assert not second.errors
    got = read_per_account(second)
    assert got["A"] == truth(emulator, "A", since=since_lookback(cursor_a))
    assert got["B"] == truth(emulator, "B")


def bad_b(config):
    config["ria"]["accounts"][1]["api_key"] = "Zz" * 20  # well-formed, unknown
    return config


def test_a_bad_key_in_one_account_names_it_and_keeps_the_other_accounts_calls_and_state(emulator):
    output = run_read(bad_b(config_of(emulator)), [STREAM])
    messages = error_messages(output)
    assert messages
    assert messages[0].startswith(f"{PROVIDER}, account «B»: ") and "API_KEY_INVALID" in messages[0], messages[0]
    assert "api_key of «B» in ria.accounts" in messages[0]
    assert all("«B»" in m and "«A»" not in m for m in messages), messages
    got = read_per_account(output)
    assert set(got) == {"A"}
    assert got["A"] == truth(emulator, "A")
    state = final_state(output, STREAM)
    cursor_a = max(got["A"].values())
    assert cursors(state)["A"] == cursor_a
    assert cursors(state).get("B", "2024-01-01T00:00:00Z") == "2024-01-01T00:00:00Z"  # B advanced by nothing

    again = run_read(config_of(emulator), [STREAM], state=state_for({STREAM: state}))
    assert not again.errors
    got = read_per_account(again)
    assert got["A"] == truth(emulator, "A", since=since_lookback(cursor_a))
    assert got["B"] == truth(emulator, "B")


def test_check_names_the_failing_account(emulator):
    assert connection_status(run_check(config_of(emulator))).status.name == "SUCCEEDED"
    status = connection_status(run_check(bad_b(config_of(emulator))))
    assert status.status.name == "FAILED"
    assert status.message.startswith(f"{PROVIDER}, account «B»: ") and "«A»" not in status.message, status.message

    config = bad_b(config_of(emulator))
    config["ria"]["accounts"][0]["api_key"] = "Yy" * 20
    status = connection_status(run_check(config))
    assert status.status.name == "FAILED"
    assert "account «A»" in status.message and "account «B»" in status.message, status.message

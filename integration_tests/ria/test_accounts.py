"""RIA.com with two accounts in one block (`ria.accounts`): every call of each, tagged with its name; a state
per account; one account's bad key named, the other's calls and state kept.

The truth is the emulator's (`expected`, {call_id: UTC instant}). The document calls `call_id` the unique
ID of a call, so it stays the key. Account «B» holds calls at Kyiv midnights and around Kyiv's DST change.
What the tests of the three providers' accounts share is in integration_tests/accounts_helpers.py."""

import datetime as dt

from integration_tests import accounts_helpers as accounts
from integration_tests.ria.helpers import STREAM, vendor
from testkit.connector import final_state, records_by_stream, run_discover, run_read
from testkit.emulator.world import RIA_API_KEY, RIA_SECOND_API_KEY, START_DATE

KEYS = {"A": RIA_API_KEY, "B": RIA_SECOND_API_KEY}


def truth(emulator, stream, name, since=START_DATE, until=accounts.UNTIL):
    """The calls of account `name` (RIA.com has one stream, `STREAM`)."""
    return vendor(emulator).expected(KEYS[name], since, until)


def read_per_account(output, stream=STREAM):
    """{account: {call_id: event_time_utc}}, asserting that no call_id came twice (it is the primary key)."""
    found, seen = {}, set()
    for record in records_by_stream(output).get(stream, []):
        assert record["call_id"] not in seen, f"call {record['call_id']} came twice"
        seen.add(record["call_id"])
        found.setdefault(record["account"], {})[record["call_id"]] = record["event_time_utc"]
    return found


def as_cursor(utc_z):
    """The cursor is an `event_time_utc` itself."""
    return utc_z


def since_lookback(cursor):
    """Where a sync from a cursor (an `event_time_utc`) starts: the cursor minus the lookback."""
    return (dt.datetime.fromisoformat(cursor.replace("Z", "+00:00")) - accounts.LOOKBACK).isoformat()


RIA = accounts.AccountsProvider(
    label="RIA.com",
    block="ria",
    cursor_field="event_time_utc",
    truth=truth,
    read_per_account=read_per_account,
    unknown_keys=("Zz" * 20, "Yy" * 20),  # well-formed, unknown
    key_error="API_KEY_INVALID",
    start_cursor="2024-01-01T00:00:00Z",
    as_cursor=as_cursor,
    since_lookback=since_lookback,
)


def test_discover_keeps_the_call_id_as_key(emulator):
    catalog = run_discover(RIA.config(emulator)).catalog.catalog
    assert {s.name: s.source_defined_primary_key for s in catalog.streams} == {STREAM: [["call_id"]]}


def test_a_sync_reads_every_call_of_both_accounts_each_tagged_with_its_name(emulator):
    output = run_read(RIA.config(emulator), [STREAM])
    assert not output.errors
    got = read_per_account(output)
    assert set(got) == {"A", "B"}
    for name in ("A", "B"):
        assert got[name] == truth(emulator, STREAM, name), name
    assert RIA.cursors(final_state(output, STREAM)) == {name: max(truth(emulator, STREAM, name).values()) for name in ("A", "B")}


def test_an_incremental_round_trip_per_account_loses_and_repeats_nothing_outside_the_lookback(emulator):
    accounts.check_round_trip(emulator, RIA, [STREAM])


def test_adding_an_account_keeps_the_state_of_the_first_and_reads_the_new_one_from_start_date(emulator):
    accounts.check_adding_an_account(emulator, RIA, STREAM)


def test_a_bad_key_in_one_account_names_it_and_keeps_the_other_accounts_calls_and_state(emulator):
    accounts.check_a_bad_key_in_b(emulator, RIA, STREAM)


def test_check_names_the_failing_account(emulator):
    accounts.check_the_check_names_the_failing_account(emulator, RIA)

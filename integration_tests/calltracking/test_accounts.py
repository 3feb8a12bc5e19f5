"""ckct.ru with two accounts in one block (`callkeeper_calltracking.accounts`): every call of each, tagged
with its name; a state per account; one account's bad key named, the other's calls and state kept.

The truth is the emulator's (`expected`, {id: UTC instant}); account «B» is the world's second account,
whose server renders `callTime` in Asia/Yekaterinburg, so its block sets that `time_zone`. What the tests
of the three providers' accounts share is in integration_tests/accounts_helpers.py."""

from integration_tests import accounts_helpers as accounts
from integration_tests.calltracking.helpers import ckct
from integration_tests.helpers import Read, sent_without_time
from testkit.connector import final_state, records_by_stream, run_discover, run_read
from testkit.emulator.world import CKCT_API_KEY, CKCT_SECOND_API_KEY, CKCT_SECOND_SERVER_ZONE, START_DATE

METHODS = {"calltracking_calls": "get", "calltracking_calls_by_role": "getByRole", "calltracking_calls_with_role": "getWithRole"}
STREAMS = list(METHODS)
KEYS = {"A": CKCT_API_KEY, "B": CKCT_SECOND_API_KEY}


def truth(emulator, stream, name, since=START_DATE, until=accounts.UNTIL):
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


CKCT = accounts.AccountsProvider(
    label="CallKeeper call tracking",
    block="callkeeper_calltracking",
    cursor_field="call_datetime",
    truth=truth,
    read_per_account=read_per_account,
    unknown_keys=("zz9zz9zz9zz9zz9z", "yy8yy8yy8yy8yy8y"),  # well-formed, unknown
    key_error="User is not recognized",
    start_cursor="2024-01-01 00:00:00",
    account_fields={"B": {"time_zone": CKCT_SECOND_SERVER_ZONE}},
    cursor_by_records=True,
)


def test_discover_declares_the_account_in_the_primary_key(emulator):
    catalog = run_discover(CKCT.config(emulator)).catalog.catalog
    keys = {s.name: s.source_defined_primary_key for s in catalog.streams}
    assert keys == {stream: [["account"], ["record_id"]] for stream in STREAMS}


def test_a_sync_reads_every_call_of_both_accounts_each_tagged_with_its_name(emulator):
    output = run_read(CKCT.config(emulator), STREAMS)
    assert not output.errors
    for stream in STREAMS:
        got = accounts.read_both_accounts(emulator, CKCT, output, stream)
        assert len(records_by_stream(output)[stream]) == sum(len(v) for v in got.values())
        assert set(CKCT.cursors(final_state(output, stream))) == {"A", "B"}


def test_an_incremental_round_trip_per_account_loses_and_repeats_nothing_outside_the_lookback(emulator):
    accounts.check_round_trip(emulator, CKCT, STREAMS)


def test_adding_an_account_keeps_the_state_of_the_first_and_reads_the_new_one_from_start_date(emulator):
    accounts.check_adding_an_account(emulator, CKCT, "calltracking_calls_with_role")


def test_a_bad_key_in_one_account_names_it_and_keeps_the_other_accounts_calls_and_state(emulator):
    accounts.check_a_bad_key_in_b(emulator, CKCT, "calltracking_calls")


def test_check_names_the_failing_account(emulator):
    accounts.check_the_check_names_the_failing_account(emulator, CKCT)

"""CallKeeper REST with two accounts in one block (`callkeeper.accounts`): every call of each, tagged with
its name; a state per account; one account's bad key named, the other's calls and state kept.

The truth is the emulator's (`expected`, {id: UTC instant of `date`}). The document says a call's `Id`
is unique in the CallKeeper system, so calls keep `id` as their key; `callkeeper_user` is one record per
account, keyed by `account`. What the tests of the three providers' accounts share is in
integration_tests/accounts_helpers.py."""

from integration_tests import accounts_helpers as accounts
from integration_tests.callkeeper.helpers import WINDOWED, vendor
from testkit.connector import final_state, records_by_stream, run_discover, run_read
from testkit.emulator.world import CALLKEEPER_API_KEY, CALLKEEPER_SECOND_API_KEY, CALLKEEPER_STATUSES, START_DATE

STREAMS = list(WINDOWED)
KEYS = {"A": CALLKEEPER_API_KEY, "B": CALLKEEPER_SECOND_API_KEY}


def truth(emulator, stream, name, since=START_DATE, until=accounts.UNTIL):
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


CALLKEEPER = accounts.AccountsProvider(
    label="CallKeeper",
    block="callkeeper",
    cursor_field="date",
    truth=truth,
    read_per_account=read_per_account,
    unknown_keys=("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"),  # well-formed, unknown
    key_error="Not the correct key api",
    start_cursor="2024-01-01 00:00:00",
)


def test_discover_keeps_the_call_id_as_key_and_keys_the_user_by_account(emulator):
    catalog = run_discover(CALLKEEPER.config(emulator)).catalog.catalog
    keys = {s.name: s.source_defined_primary_key for s in catalog.streams}
    assert keys == {**{stream: [["id"]] for stream in STREAMS}, "callkeeper_user": [["account"]]}


def test_a_sync_reads_every_call_of_both_accounts_each_tagged_with_its_name(emulator):
    output = run_read(CALLKEEPER.config(emulator), STREAMS + ["callkeeper_user"])
    assert not output.errors
    for stream in STREAMS:
        accounts.read_both_accounts(emulator, CALLKEEPER, output, stream)
        assert set(CALLKEEPER.cursors(final_state(output, stream))) == {"A", "B"}
    users = {r["account"]: r["id"] for r in records_by_stream(output)["callkeeper_user"]}
    assert len(records_by_stream(output)["callkeeper_user"]) == 2
    assert users == {name: vendor(emulator).account_of(key).user["id"] for name, key in KEYS.items()}


def test_an_incremental_round_trip_per_account_loses_and_repeats_nothing_outside_the_lookback(emulator):
    accounts.check_round_trip(emulator, CALLKEEPER, STREAMS)


def test_adding_an_account_keeps_the_state_of_the_first_and_reads_the_new_one_from_start_date(emulator):
    accounts.check_adding_an_account(emulator, CALLKEEPER, "callkeeper_calls")


def test_a_bad_key_in_one_account_names_it_and_keeps_the_other_accounts_calls_and_state(emulator):
    output = accounts.check_a_bad_key_in_b(emulator, CALLKEEPER, "callkeeper_calls", also=["callkeeper_user"])
    assert [r["account"] for r in records_by_stream(output)["callkeeper_user"]] == ["A"]  # «B»'s user not read


def test_check_names_the_failing_account(emulator):
    accounts.check_the_check_names_the_failing_account(emulator, CALLKEEPER)

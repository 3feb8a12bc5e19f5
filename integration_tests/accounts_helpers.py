"""What the tests of two accounts in one provider block share (callkeeper/, calltracking/ and
ria/test_accounts.py): a config of accounts «A» and «B», the state per account, and the behaviour every
provider must show with them: a round trip per account, an account added later, a bad key in one account
in `read` and in `check`.

Each provider's test file keeps its tests (by name) and says what is its own in an `AccountsProvider`: its
block, how its truth and its records are read, its cursor, its unknown keys and what its API says of them.
The asserts here are rewritten by pytest (integration_tests/conftest.py), as in a test module."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from testkit.connector import connection_status, error_messages, final_state, run_check, run_read, state_for
from testkit.emulator.world import END_DATE, START_DATE, accounts_block

NAMES = ("A", "B")
UNTIL = "2024-05-01T00:00:00Z"  # end_date 2024-04-30 includes that whole day
LOOKBACK = dt.timedelta(days=1)


def as_datetime_cursor(utc_z):
    """A UTC instant (`2024-01-01T00:00:00Z`) as a cursor `2024-01-01 00:00:00` (ckct.ru's and CallKeeper's)."""
    return dt.datetime.strptime(utc_z, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M:%S")


def since_datetime_cursor(cursor):
    """Where a sync from a cursor `2024-01-01 00:00:00` (UTC) starts: the cursor minus the lookback."""
    moment = dt.datetime.strptime(cursor, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    return (moment - LOOKBACK).isoformat()


@dataclass(frozen=True)
class AccountsProvider:
    """One provider's side of the tests of two accounts."""

    label: str  # the provider's name, which starts its messages
    block: str  # its config block, whose `accounts` hold «A» and «B»
    cursor_field: str  # the cursor in each account's state
    truth: Callable  # (emulator, stream, name, since=START_DATE, until=UNTIL) -> {id: UTC instant}
    read_per_account: Callable  # (output, stream) -> {account: {id: event_time_utc}}
    unknown_keys: tuple  # well-formed keys the emulator does not know: one for «B», one for «A»
    key_error: str  # what the API says of an unknown key
    start_cursor: str  # the cursor at start_date, as the state writes it
    as_cursor: Callable = as_datetime_cursor  # a UTC instant `...Z` as the state writes it
    since_lookback: Callable = since_datetime_cursor  # where a sync from a cursor starts
    account_fields: dict = field(default_factory=dict)  # {account: fields its entry in the block adds}
    # The cursor at the end is the latest call read (ckct.ru: a call sent without a time is dated earlier
    # than its true instant; see integration_tests.helpers.Read), not the latest of the truth.
    cursor_by_records: bool = False

    def config(self, emulator, names=NAMES, **overrides):
        """A config of the accounts `names` of the world's block, the whole period, a day of lookback."""
        block = accounts_block(emulator, self.block)
        for account in block["accounts"]:
            account.update(self.account_fields.get(account["name"], {}))
        block["accounts"] = [a for a in block["accounts"] if a["name"] in names]
        return {"start_date": START_DATE, "end_date": END_DATE, "lookback_window_days": 1, self.block: block, **overrides}

    def cursors(self, state):
        """{account: cursor} of a stream's state."""
        return {s["partition"]["account"]: s["cursor"][self.cursor_field] for s in state["states"]}

    def bad_b(self, config):
        """The config with «B»'s key replaced by an unknown one."""
        config[self.block]["accounts"][1]["api_key"] = self.unknown_keys[0]
        return config


def read_both_accounts(emulator, provider, output, stream):
    """The calls of a stream of a sync of the whole period, per account: both accounts, each with every
    call of its truth (and the truth holds some)."""
    got = provider.read_per_account(output, stream)
    assert set(got) == set(NAMES), stream
    for name in NAMES:
        expected = provider.truth(emulator, stream, name)
        assert expected, (stream, name)
        assert got[name] == expected, (stream, name)
    return got


def check_round_trip(emulator, provider, streams):
    """An incremental round trip per account loses and repeats nothing outside the lookback: a sync to
    2024-02-29 reads each account's calls and ends at its latest; the next, from that state, reads each
    account from its own cursor minus the lookback to the end, and ends at its latest call."""
    first = run_read(provider.config(emulator, end_date="2024-02-29"), streams)
    assert not first.errors
    states = {}
    for stream in streams:
        got = provider.read_per_account(first, stream)
        for name in NAMES:
            assert got[name] == provider.truth(emulator, stream, name, until="2024-03-01T00:00:00Z"), (stream, name)
        states[stream] = final_state(first, stream)
        assert provider.cursors(states[stream]) == {name: provider.as_cursor(max(got[name].values())) for name in NAMES}, stream

    second = run_read(provider.config(emulator), streams, state=state_for(states))
    assert not second.errors
    for stream in streams:
        got = provider.read_per_account(second, stream)
        before = provider.cursors(states[stream])
        for name in NAMES:
            # From the account's own cursor minus the lookback, to the end: nothing lost, nothing older repeated.
            since = provider.since_lookback(before[name])
            assert got[name] == provider.truth(emulator, stream, name, since=since), (stream, name)
        latest = got if provider.cursor_by_records else {name: provider.truth(emulator, stream, name) for name in NAMES}
        assert provider.cursors(final_state(second, stream)) == {
            name: provider.as_cursor(max(latest[name].values())) for name in NAMES
        }, stream


def check_adding_an_account(emulator, provider, stream):
    """A sync of «A» alone, then of «A» and «B» from its state: «A» from its cursor minus the lookback, «B»
    from start_date."""
    first = run_read(provider.config(emulator, names=("A",), end_date="2024-02-29"), [stream])
    assert not first.errors
    state = final_state(first, stream)
    assert set(provider.cursors(state)) == {"A"}
    cursor_a = provider.cursors(state)["A"]

    second = run_read(provider.config(emulator), [stream], state=state_for({stream: state}))
    assert not second.errors
    got = provider.read_per_account(second, stream)
    assert got["A"] == provider.truth(emulator, stream, "A", since=provider.since_lookback(cursor_a))
    assert got["B"] == provider.truth(emulator, stream, "B")  # the new account: its whole history


def check_a_bad_key_in_b(emulator, provider, stream, also=()):
    """A sync (of `stream`, and of `also`) with «B»'s key unknown: the errors name «B» (and its key in the
    config) and not «A»; «A»'s calls are all read and its state advances, «B»'s does not. With the key
    mended, the next sync reads «B» from start_date and «A» from its cursor minus the lookback. Returns the
    output of the first sync."""
    output = run_read(provider.bad_b(provider.config(emulator)), [stream, *also])
    messages = error_messages(output)
    assert messages
    assert messages[0].startswith(f"{provider.label}, account «B»: ") and provider.key_error in messages[0], messages[0]
    assert f"api_key of «B» in {provider.block}.accounts" in messages[0]
    assert all("«B»" in m and "«A»" not in m for m in messages), messages
    got = provider.read_per_account(output, stream)
    assert set(got) == {"A"}
    assert got["A"] == provider.truth(emulator, stream, "A")
    state = final_state(output, stream)
    cursor_a = provider.as_cursor(max(got["A"].values()))
    assert provider.cursors(state)["A"] == cursor_a
    assert provider.cursors(state).get("B", provider.start_cursor) == provider.start_cursor  # B advanced by nothing

    # With B's key mended, the next sync reads B from start_date and A only from its own cursor's lookback.
    again = run_read(provider.config(emulator), [stream], state=state_for({stream: state}))
    assert not again.errors
    got = provider.read_per_account(again, stream)
    assert got["A"] == provider.truth(emulator, stream, "A", since=provider.since_lookback(cursor_a))
    assert got["B"] == provider.truth(emulator, stream, "B")
    return output


def check_the_check_names_the_failing_account(emulator, provider):
    """`check` succeeds with both keys; with «B»'s unknown it fails naming «B» alone; with both unknown it
    names both."""
    assert connection_status(run_check(provider.config(emulator))).status.name == "SUCCEEDED"
    status = connection_status(run_check(provider.bad_b(provider.config(emulator))))
    assert status.status.name == "FAILED"
    assert status.message.startswith(f"{provider.label}, account «B»: ") and "«A»" not in status.message, status.message

    config = provider.bad_b(provider.config(emulator))
    config[provider.block]["accounts"][0]["api_key"] = provider.unknown_keys[1]
    status = connection_status(run_check(config))
    assert status.status.name == "FAILED"
    assert "account «A»" in status.message and "account «B»" in status.message, status.message

"""`event_time_utc` and range edges in zones other than UTC, end to end, against the emulator's truth.

- ckct.ru's second account renders `callTime` in Asia/Yekaterinburg (UTC+5), which
  `callkeeper_calltracking.time_zone` says;
- CallKeeper REST's second account, read with `callkeeper.time_zone` Asia/Yekaterinburg (its `date` is UTC,
  the window's bounds are wall-clock times in that zone);
- RIA.com's second account, in Europe/Kyiv, across the change of 2024-03-31 (03:00 EET became 04:00 EEST).

Each account holds calls a second before and at its local midnights (and the DST change): the `*_EDGES`
instants. Every record's `event_time_utc` must be the emulator's UTC instant; a range split into two syncs
at an edge (the first ending at its last second, inclusive, the second starting at the edge) must give
every call exactly once. `end_date` as a date-time is the last moment read (inclusive)."""

import datetime as dt

import pytest

from integration_tests.helpers import Read, sent_without_time
from testkit.connector import records_by_stream, run_read
from testkit.emulator.world import (
    CALLKEEPER_SECOND_API_KEY,
    CALLKEEPER_SECOND_EDGES,
    CKCT_SECOND_API_KEY,
    CKCT_SECOND_EDGES,
    CKCT_SECOND_ROLE_KEY,
    CKCT_SECOND_SERVER_ZONE,
    END_DATE,
    RIA_SECOND_API_KEY,
    RIA_SECOND_EDGES,
    RIA_SECOND_USER_ID,
    RIA_ZONE,
    START_DATE,
    provider_block,
)

UNTIL = "2024-05-01T00:00:00Z"  # end_date 2024-04-30 includes that whole day
CKCT_METHODS = {
    "calltracking_calls": "get",
    "calltracking_calls_by_role": "getByRole",
    "calltracking_calls_with_role": "getWithRole",
}
CALLKEEPER_METHODS = {
    "callkeeper_calls": "getCallsInfo",
    "callkeeper_completed_calls": "getCallsCompleted",
    "callkeeper_tap2calls": "getT2C",
}


# The second account of each provider, and the zone its block says.
SECOND_ACCOUNTS = {
    "callkeeper_calltracking": {
        "api_key": CKCT_SECOND_API_KEY,
        "role_api_key": CKCT_SECOND_ROLE_KEY,
        "time_zone": CKCT_SECOND_SERVER_ZONE,
    },
    "callkeeper": {"api_key": CALLKEEPER_SECOND_API_KEY, "time_zone": "Asia/Yekaterinburg"},
    "ria": {"api_key": RIA_SECOND_API_KEY, "user_id": RIA_SECOND_USER_ID, "time_zone": RIA_ZONE},
}


def second_account_config(emulator, provider, start=START_DATE, end=END_DATE):
    """A config of `provider` alone, read with its second account (`SECOND_ACCOUNTS`)."""
    block = {**provider_block(emulator, provider), **SECOND_ACCOUNTS[provider]}
    return {"start_date": start, "end_date": end, "lookback_window_days": 1, provider: block}


def ckct_truth(emulator, stream, since=START_DATE, until=UNTIL):
    return emulator.vendors["ckct"].expected(CKCT_SECOND_API_KEY, CKCT_METHODS[stream], since, until)


def callkeeper_truth(emulator, stream, since=START_DATE, until=UNTIL):
    return emulator.vendors["callkeeper"].expected(CALLKEEPER_SECOND_API_KEY, CALLKEEPER_METHODS[stream], since, until)


def ria_truth(emulator, stream, since=START_DATE, until=UNTIL):
    return emulator.vendors["ria"].expected(RIA_SECOND_API_KEY, since, until)


EDGELESS = {"calltracking_calls_by_role", "callkeeper_tap2calls"}  # timelines the world gives no edge calls
ID_FIELD = {"callkeeper_calltracking": "record_id", "callkeeper": "id", "ria": "call_id"}
PROVIDERS = {
    "callkeeper_calltracking": (ckct_truth, list(CKCT_METHODS), CKCT_SECOND_EDGES),
    "callkeeper": (callkeeper_truth, list(CALLKEEPER_METHODS), CALLKEEPER_SECOND_EDGES),
    "ria": (ria_truth, ["ria_calls"], RIA_SECOND_EDGES),
}
# (the last second of the first sync, the first moment of the second): each a pair of edge instants.
SPLITS = {
    "callkeeper_calltracking": [
        ("2024-02-14T18:59:59Z", "2024-02-14T19:00:00Z"),  # Yekaterinburg midnight
        ("2024-04-30T18:59:59Z", "2024-04-30T19:00:00Z"),
    ],  # 1 May there, 30 April in UTC
    "callkeeper": [("2024-02-29T20:59:59Z", "2024-02-29T21:00:00Z")],  # Moscow midnight
    "ria": [
        ("2024-01-31T21:59:59Z", "2024-01-31T22:00:00Z"),  # Kyiv midnight, EET
        ("2024-03-30T21:59:59Z", "2024-03-30T22:00:00Z"),  # 31 March 00:00 EET
        ("2024-03-31T00:59:59Z", "2024-03-31T01:00:00Z"),  # 02:59:59 EET, then 04:00:00 EEST
        ("2024-03-31T20:59:59Z", "2024-03-31T21:00:00Z"),
    ],  # 1 April 00:00 EEST
}


def read_ids(output, stream, id_field):
    """The `Read` of a stream, asserting no id came twice."""
    found = Read()
    for record in records_by_stream(output).get(stream, []):
        key = int(record[id_field]) if id_field == "id" else record[id_field]
        assert key not in found, f"{stream}: {key} came twice"
        found[key] = record["event_time_utc"]
        if id_field == "record_id" and sent_without_time(record):
            found.untimed.add(key)
    return found


def plus_second(utc_z):
    moment = dt.datetime.strptime(utc_z, "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_event_time_utc_is_the_true_instant_of_every_record_edges_included(emulator, provider):
    truth, streams, edges = PROVIDERS[provider]
    output = run_read(second_account_config(emulator, provider), streams)
    assert not output.errors
    inside = {e for e in edges if START_DATE + "T00:00:00Z" <= e < UNTIL}
    assert inside
    for stream in streams:
        got = read_ids(output, stream, ID_FIELD[provider])
        expected = truth(emulator, stream)
        assert got == expected, stream
        if stream not in EDGELESS:
            assert inside <= set(expected.values()), stream
            untimed_edges = {expected[i] for i in got.untimed} & inside
            assert inside - untimed_edges <= got.timed(), (stream, sorted(inside - got.timed()))
        assert not {e for e in edges if e not in inside} & set(got.values()), stream  # edges outside the range: not read


@pytest.mark.parametrize(
    "provider,split",
    [(p, s) for p, splits in SPLITS.items() for s in splits],
    ids=lambda value: value if isinstance(value, str) else value[1],
)
def test_a_range_split_at_an_edge_gives_every_record_once(emulator, provider, split):
    truth, streams, edges = PROVIDERS[provider]
    last, first = split
    assert last in edges and first in edges and plus_second(last) == first
    before = run_read(second_account_config(emulator, provider, end=last), streams)
    after = run_read(second_account_config(emulator, provider, start=first), streams)
    assert not before.errors and not after.errors
    for stream in streams:
        got_before = read_ids(before, stream, ID_FIELD[provider])
        got_after = read_ids(after, stream, ID_FIELD[provider])
        assert got_before == truth(emulator, stream, until=first), stream
        assert got_after == truth(emulator, stream, since=first), stream
        assert not set(got_before) & set(got_after), stream
        union = Read()
        union.update({**got_before, **got_after})
        union.untimed = got_before.untimed | got_after.untimed
        assert union == truth(emulator, stream), stream
        if stream not in EDGELESS:
            expected_before, expected_after = truth(emulator, stream, until=first), truth(emulator, stream, since=first)
            assert last in expected_before.values() and first in expected_after.values(), stream


def test_a_ria_sync_ending_on_utc_days_around_the_dst_change_reads_each_day_once(emulator):
    """end_date as dates (whole UTC days) next to Kyiv's short day: 30 March, then 31 March onwards."""
    truth, streams, _ = PROVIDERS["ria"]
    before = read_ids(run_read(second_account_config(emulator, "ria", end="2024-03-30"), streams), "ria_calls", "call_id")
    after = read_ids(run_read(second_account_config(emulator, "ria", start="2024-03-31"), streams), "ria_calls", "call_id")
    assert before == truth(emulator, "ria_calls", until="2024-03-31T00:00:00Z")
    assert after == truth(emulator, "ria_calls", since="2024-03-31T00:00:00Z")
    assert {"2024-03-30T21:59:59Z", "2024-03-30T22:00:00Z"} <= set(before.values())
    assert {"2024-03-31T00:59:59Z", "2024-03-31T01:00:00Z"} <= set(after.values())

"""What the tests of CallKeeper call tracking (ckct.ru) share: its streams, the calls its emulator
holds, and a config of January's calls."""

from testkit.connector import records_by_stream
from testkit.emulator.world import world_config

STREAMS = ["calltracking_calls", "calltracking_calls_by_role", "calltracking_calls_with_role"]
STREAM = "calltracking_calls"
JANUARY = dict(start_date="2024-01-01", end_date="2024-01-31")  # one 30-day window and a day


def ckct(emulator):
    return emulator.vendors["ckct"]


def held_ids(emulator, stream, since="2024-01-01", until="2024-04-30T23:59:59"):
    vendor = ckct(emulator)
    account = vendor.accounts[0]
    timelines = {
        "calltracking_calls": [account.own],
        "calltracking_calls_by_role": [account.by_role],
        "calltracking_calls_with_role": [account.own, account.by_role],
    }[stream]
    return [i for t in timelines for i in vendor.call_ids(t, since, until)]


def expected_ids(emulator):
    """{stream: the ids of every call the API holds for it}, over the whole period of the world."""
    return {stream: set(held_ids(emulator, stream)) for stream in STREAMS}


def own_ids(emulator, since="2024-01-01", until="2024-01-31T23:59:59"):
    vendor = ckct(emulator)
    return sorted(vendor.call_ids(vendor.accounts[0].own, since, until))


def read_ids(output, stream=STREAM):
    return [r["record_id"] for r in records_by_stream(output).get(stream, [])]


def config_of(emulator, **overrides):
    return world_config(emulator, ["callkeeper_calltracking"], **{**JANUARY, **overrides})

"""Answers larger than the in-memory limit (answers.SPOOL_THRESHOLD_BYTES): a RIA.com or
CallKeeper REST date window of tens of thousands of calls, a UIS page of 10000 rows. They are
read from a temporary file a segment at a time; every record arrives once, and a large answer
that is cut off, dropped half-way or replaced by an HTML page is retried like a small one."""

from __future__ import annotations

import pytest

from integration_tests.uis.helpers import reports_only
from source_calltracking.components import answers
from testkit.connector import error_messages, records_by_stream, run_read
from testkit.emulator.callkeeper import default_callkeeper
from testkit.emulator.faults import Fault
from testkit.emulator.ria import default_ria
from testkit.emulator.server import Emulator, Response
from testkit.emulator.timeline import spread
from testkit.emulator.uis import default_uis
from testkit.emulator.world import (
    CALLKEEPER_API_KEY,
    END_DATE,
    RIA_API_KEY,
    RIA_USER_ID,
    START_DATE,
    UIS_ACCESS_TOKEN,
    world_config,
)

END = END_DATE + "T23:59:59"
CALLS = 40_000
UIS_ROWS = 11_000


@pytest.fixture(scope="module")
def big_world():
    emulator = Emulator()
    emulator.register("ria", default_ria(RIA_API_KEY, RIA_USER_ID, calls=CALLS, start=START_DATE, end=END, hourly_limit=10**6))
    emulator.register("callkeeper", default_callkeeper(CALLKEEPER_API_KEY, calls=CALLS, tap2calls=1, start=START_DATE, end=END))
    uis = default_uis(UIS_ACCESS_TOKEN, start=START_DATE, end=END)
    uis.timelines["get.calls_report"] = spread(UIS_ROWS, START_DATE, END)
    emulator.register("uis", uis)
    with emulator:
        yield emulator


@pytest.fixture
def world(big_world):
    big_world.faults.clear()
    big_world.clear_log()
    yield big_world
    big_world.faults.clear()


@pytest.fixture
def spooled(monkeypatch):
    """How many answers were read through a file."""
    taken = []
    original = answers.SpooledRecords.__init__

    def counting(self, *args, **kwargs):
        taken.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(answers.SpooledRecords, "__init__", counting)
    return taken


STREAMS = {  # provider: (stream, its key, the config block's overrides)
    "ria": ("ria_calls", "call_id", {"window_days": 62, "rate_limit_wait_seconds": 0.1}),
    "callkeeper": ("callkeeper_calls", "id", {"window_days": 31}),
    "uis": ("uis_calls", "id", {}),
}


def config_for(world, provider):
    config = world_config(world, [provider], retry_backoff_seconds=0.1, request_timeout_seconds=10)
    config[provider].update(STREAMS[provider][2])
    return config


def expected_ids(world, provider):
    if provider == "ria":
        return sorted(world.vendors["ria"].call_ids(START_DATE, END_DATE))
    if provider == "callkeeper":
        return sorted(world.vendors["callkeeper"].call_ids("getCallsInfo", START_DATE, END))
    return sorted(world.vendors["uis"].ids("get.calls_report", START_DATE, END))


def ids_read(output, provider):
    stream, key, _ = STREAMS[provider]
    return [record[key] for record in records_by_stream(output).get(stream, [])]


@pytest.mark.parametrize("provider", list(STREAMS))
def test_every_record_of_large_answers_arrives_once(world, spooled, provider):
    output = run_read(config_for(world, provider), [STREAMS[provider][0]])
    assert not output.errors, error_messages(output)
    ids = ids_read(output, provider)
    assert len(ids) == len(set(ids)) and sorted(ids) == expected_ids(world, provider)
    assert len(expected_ids(world, provider)) >= UIS_ROWS
    assert len(spooled) >= 2  # the large answers took the file path (two windows or more)


FAULTS = {
    "cut off (its shorter length announced)": dict(kind="truncate", times=2),
    "connection dropped half-way": dict(kind="drop", times=2),
    "HTML page with HTTP 200": dict(
        kind="response", times=1, response=Response(200, b"<html>" + b"x" * (5 << 20) + b"</html>", "text/html")
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("provider", list(STREAMS))
def test_a_large_answer_that_is_not_whole_is_retried_and_nothing_is_lost(world, retry_waits, provider, fault):
    spec = FAULTS[fault]
    injected = world.faults.add(Fault(provider, **spec))
    if provider == "uis":  # the large answers are the report's: not the small get.account asked before it
        injected.match = reports_only
    baseline_requests = {"ria": 2, "callkeeper": 4, "uis": None}[provider]
    output = run_read(config_for(world, provider), [STREAMS[provider][0]])
    assert not output.errors, error_messages(output)
    ids = ids_read(output, provider)
    assert len(ids) == len(set(ids)) and sorted(ids) == expected_ids(world, provider)
    assert injected.times == 0 and len(retry_waits) == spec["times"]
    if baseline_requests is not None:  # each window once, plus one retry per fault
        assert len(world.requests_to(provider)) == baseline_requests + spec["times"]

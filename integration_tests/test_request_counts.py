"""Each provider's main stream spends exactly the fewest requests its API allows, whatever the
concurrency: no repeated request, no page past the last, no window more than needed."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from benchmarks.minimum import minimum_requests
from testkit.connector import run_read
from testkit.emulator.world import build_world, world_config


def read_main_stream(provider: str, stream: str, scale: float, concurrency: int):
    with build_world(scale=scale) as emulator:
        config = world_config(emulator, [provider], concurrency_level=concurrency)
        output = run_read(config, [stream])
        assert not output.errors
        return emulator, output


@pytest.mark.parametrize("concurrency", [1, 8])
def test_uis_calls_spend_ceil_rows_per_10000_per_window(concurrency):
    emulator, output = read_main_stream("uis", "uis_calls", scale=25, concurrency=concurrency)  # 30000 rows
    assert len(output.records) == 30_000
    bodies = [json.loads(r.body) for r in emulator.requests_to("uis")]
    # Since 0.2.0 the account's zone comes first: one get.account for the one account, then the pages.
    accounts = [b for b in bodies if b["method"] == "get.account"]
    assert len(accounts) == 1 and bodies[0]["method"] == "get.account"
    bodies = [b for b in bodies if b["method"] != "get.account"]
    pages = [(b["params"]["date_from"], b["params"]["date_till"], b["params"]["offset"]) for b in bodies]
    assert all(b["method"] == "get.calls_report" and b["params"]["limit"] == 10_000 for b in bodies)
    assert not [page for page, n in Counter(pages).items() if n > 1], "a page was asked for twice"
    assert len(pages) == minimum_requests("uis", 30_000)[0] == 4


@pytest.mark.parametrize("concurrency", [1, 8])
def test_calltracking_calls_spend_one_request_per_page_the_server_sends(concurrency):
    """Pages of the server's length; with page counters, no request past the last page."""
    emulator, output = read_main_stream("callkeeper_calltracking", "calltracking_calls", scale=1, concurrency=concurrency)
    assert len(output.records) == 2500
    requests = [r.query for r in emulator.requests_to("ckct", "/call/get/")]
    assert len(requests) == len(set(requests)) == len(emulator.requests_to("ckct"))
    assert len(requests) == minimum_requests("callkeeper_calltracking", 2500, emulator.variation)[0]
    assert minimum_requests("callkeeper_calltracking", 2500)[0] == 5  # the sample's 1000 a page, with counters


@pytest.mark.parametrize("concurrency", [1, 8])
def test_callkeeper_calls_spend_one_request_per_window(concurrency):
    emulator, output = read_main_stream("callkeeper", "callkeeper_calls", scale=1, concurrency=concurrency)
    assert len(output.records) == 1500
    requests = [r.query for r in emulator.requests_to("callkeeper")]
    assert all(r.path == "/getCallsInfo" for r in emulator.requests_to("callkeeper"))
    assert len(requests) == len(set(requests)) == minimum_requests("callkeeper", 1500)[0] == 18


@pytest.mark.parametrize("concurrency", [1, 8])
def test_ria_calls_spend_one_request_per_window(concurrency):
    emulator, output = read_main_stream("ria", "ria_calls", scale=1, concurrency=concurrency)
    assert len(output.records) == 1200
    requests = [r.query for r in emulator.requests_to("ria")]
    assert len(requests) == len(set(requests)) == minimum_requests("ria", 1200)[0] == 4

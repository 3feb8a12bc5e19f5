"""ckct.ru paging: the page length is the server's, the counters may be anywhere or nowhere, and a
window costs the fewest requests its answers allow."""

import datetime as dt

import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.calltracking.helpers import STREAM, ckct, config_of, own_ids, read_ids
from testkit.connector import error_messages, run_read


def test_pages_and_windows_cost_the_minimum_of_requests(emulator, config):
    """With page counters, a window costs ceil(calls / page length) requests (one for an empty
    window); without them, one more, the request that finds the end. Never more than that."""
    config["callkeeper_calltracking"]["window_days"] = 45
    output = run_read(config, ["calltracking_calls"])
    assert len(output.records) == 2500
    requests = emulator.requests_to("ckct", "/call/get/")
    windows = {}
    for r in requests:
        parts = r.query.split("/")
        windows.setdefault((parts[6], parts[7]), []).append(int(parts[5]))
    assert len(windows) == 3  # 121 days in windows of 45
    account = ckct(emulator).accounts[0]
    variation = emulator.variation
    for (since, until), pages in windows.items():
        lo, hi = account.own.index_range(
            dt.datetime.fromtimestamp(int(since), dt.UTC), dt.datetime.fromtimestamp(int(until), dt.UTC)
        )
        full_pages = -(-(hi - lo) // variation.ckct_page_length)
        with_counters = variation.ckct_response_shape == "envelope" and variation.ckct_counters != "none"
        expected = max(1, full_pages if with_counters else full_pages + 1)
        assert sorted(pages) == list(range(expected)), (since, until, pages, variation.describe())


def test_a_server_that_pages_by_50_loses_no_call(world_with):
    """Regression: a page shorter than 1000 was taken for the last one, so a server that pages by 50
    lost every page after the first of each window, with no error."""
    emulator = world_with(ckct_page_length=50, ckct_response_shape="envelope", ckct_counters="inbound")
    output = run_read(config_of(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    assert sorted(read_ids(output)) == own_ids(emulator)
    assert len(own_ids(emulator)) > 50


@pytest.mark.parametrize("counters", ["inbound", "info", "both", "none"])
@pytest.mark.parametrize("page_length", [1, 7, 1000])
def test_every_page_length_and_place_of_the_counters(world_with, counters, page_length):
    emulator = world_with(ckct_page_length=page_length, ckct_response_shape="envelope", ckct_counters=counters)
    output = run_read(config_of(emulator, end_date="2024-01-10"), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    ids = read_ids(output)
    assert sorted(ids) == own_ids(emulator, until="2024-01-10T23:59:59") and len(ids) == len(set(ids))


@pytest.mark.parametrize("past_last_page", ["incorrect_page", "empty_page"])
def test_a_bare_array_is_read_until_the_server_says_the_window_is_done(world_with, past_last_page):
    emulator = world_with(ckct_page_length=40, ckct_response_shape="array", ckct_past_last_page=past_last_page)
    output = run_read(config_of(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    held = own_ids(emulator)
    assert sorted(read_ids(output)) == held
    pages = -(-len(held) // 40)
    # Two windows (30 days and 1): each read to the page that says it is done.
    requests = emulator.requests_to("ckct", "/call/get/")
    assert len(requests) == pages + 2

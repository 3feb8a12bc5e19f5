"""UIS paging: pages follow the offsets the server's page length gives and stop at `total_items`; no
request asks past offset 100000, and the reason is said."""

import pytest

from integration_tests.uis.helpers import bodies, uis, uis_config
from testkit.connector import run_read
from testkit.emulator.timeline import spread


def test_pages_follow_offsets_and_stop_at_total_items(emulator):
    """20000 rows: offsets 0 and 10000, and no third request for an empty page (total_items says it is done)."""
    vendor = uis(emulator)
    vendor.timelines["get.financial_call_legs_report"] = spread(20_000, "2024-01-01", "2024-01-10")
    output = run_read(uis_config(emulator, end_date="2024-01-31"), ["uis_financial_call_legs"])
    assert len(output.records) == 20_000
    sent = bodies(emulator, "get.financial_call_legs_report")
    assert [(b["params"]["offset"], b["params"]["limit"]) for b in sent] == [(0, 10000), (10000, 10000)]


def test_paging_never_asks_past_offset_100000_and_says_why():
    """For a request that cannot be split (the v3.0 methods take no dates) the rest is not dropped silently."""
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_calltracking.components.uis import UisOffsetPages

    pagination = UisOffsetPages(config={}, parameters={"method": "get.sales_report", "provider_name": "UIS"})
    holding = lambda total: {"result": {"data": [], "metadata": {"total_items": total}}}  # noqa: E731
    assert pagination.next_position(holding(150_000), 90_000, 10_000) == 100_000
    with pytest.raises(AirbyteTracedException) as raised:
        pagination.next_position(holding(150_000), 100_000, 10_000)
    assert raised.value.message.startswith(
        "UIS: get.sales_report answered with 150000 rows for one request, more than the 110000"
    )
    assert pagination.next_position(holding(110_000), 100_000, 10_000) is None  # everything read
    # The page length is the server's: a page shorter than the `limit` asked is not the last one.
    assert pagination.next_position(holding(30_000), 0, 9_999) == 9_999
    assert pagination.next_position(holding(30_000), 9_999, 0) is None  # an empty page ends the window

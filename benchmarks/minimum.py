"""The fewest requests each provider's API allows for a sync of the emulator's default period.

Used by the benchmark and by integration_tests/test_request_counts.py.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import List, Tuple

from testkit.emulator.timeline import parse_utc, spread
from testkit.emulator.variation import Variation
from testkit.emulator.world import END_DATE, START_DATE


def windows(step: dt.timedelta, granularity: dt.timedelta) -> List[Tuple[dt.datetime, dt.datetime]]:
    """The date windows of the sync period START_DATE..END_DATE, as the connector cuts them."""
    start, end = parse_utc(START_DATE), parse_utc(END_DATE + "T23:59:59")
    cut = []
    while start <= end:
        cut.append((start, min(start + step - granularity, end)))
        start = start + step
    return cut


def minimum_requests(provider: str, records: int, variation: Variation = Variation.canonical()) -> Tuple[int, str]:
    """The fewest requests the API allows for `records` records spread over the sync period, from a
    server that answers as `variation` says (the ckct page length and counters are the server's)."""
    timeline = spread(records, START_DATE, END_DATE + "T23:59:59")
    second, day = dt.timedelta(seconds=1), dt.timedelta(days=1)

    def paged(step: dt.timedelta, page: int, to_find_the_end: int = 0) -> int:
        total = 0
        for since, until in windows(step, second):
            lo, hi = timeline.index_range(since, until)
            total += max(1, math.ceil((hi - lo) / page) + (to_find_the_end if hi > lo else 0))
        return total

    if provider == "uis":
        return paged(88 * day, 10_000), "ceil(rows/10000) per window of 88 days"
    if provider == "callkeeper_calltracking":
        length = variation.ckct_page_length
        counted = variation.ckct_response_shape == "envelope" and variation.ckct_counters != "none"
        return (paged(30 * day, length, 0 if counted else 1),
                f"one per page of {length}" + ("" if counted else ", and one to find the end") + ", windows of 30 days")
    if provider == "callkeeper":
        return len(windows(7 * day, second)), "one per window of 7 days"
    return len(windows(31 * day, day)), "one per window of 31 days"



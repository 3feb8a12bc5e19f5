"""The fewest requests each provider's API allows for a sync of the emulator's default period.

Used by the benchmark and by integration_tests/test_request_counts.py.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from testkit.emulator.timeline import parse_utc, spread
from testkit.emulator.variation import Variation
from testkit.emulator.world import END_DATE, START_DATE


def windows(step: dt.timedelta, granularity: dt.timedelta) -> list[tuple[dt.datetime, dt.datetime]]:
    """The date windows of the sync period START_DATE..END_DATE, as the connector cuts them."""
    start, end = parse_utc(START_DATE), parse_utc(END_DATE + "T23:59:59")
    cut = []
    while start <= end:
        cut.append((start, min(start + step - granularity, end)))
        start = start + step
    return cut


def minimum_requests(provider: str, records: int, variation: Variation = Variation.canonical()) -> tuple[int, str]:
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
        return (
            paged(30 * day, length, 0 if counted else 1),
            f"one per page of {length}" + ("" if counted else ", and one to find the end") + ", windows of 30 days",
        )
    if provider == "callkeeper":
        return len(windows(7 * day, second)), "one per window of 7 days"
    return len(windows(31 * day, day)), "one per window of 31 days"


def directory_requests(provider: str, config: Mapping[str, Any]) -> int:
    """The requests a sync of `config` must make before its first report page: UIS reads `get.account`
    (the zone in which the account's `date_from`/`date_till` and report times are written) once per
    account it reads: the token's own (or `uis.user_id`'s), or each client of a `uis.user_ids` list
    (the clients' names, which the connector also asks `get.customer_users` for, only serve its
    messages: not counted). The other providers need none.

    `uis.user_ids: "all"` is not counted: how many clients the token has is the server's to say."""
    if provider != "uis":
        return 0
    clients = (config.get("uis") or {}).get("user_ids")
    if clients in (None, []):
        return 1
    if clients == "all":
        raise ValueError('the fewest requests of uis.user_ids "all" depend on the token\'s clients: list them')
    return len(clients)

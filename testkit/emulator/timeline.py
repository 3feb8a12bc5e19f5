"""Deterministic, lazily generated call timelines: record i happens at `start + i * step`.

Nothing is held in memory per record, so a timeline of a million calls costs nothing until a
page of it is served; the records of a time range are found by arithmetic, not by a scan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Tuple

UTC = dt.timezone.utc


def parse_utc(value: str) -> dt.datetime:
    value = value.replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Timeline:
    start: dt.datetime
    step_seconds: float
    count: int
    id_offset: int = 0

    def time_of(self, index: int) -> dt.datetime:
        return self.start + dt.timedelta(seconds=int(index * self.step_seconds))

    def index_range(self, since: dt.datetime, until: dt.datetime) -> Tuple[int, int]:
        """Indices [lo, hi) of the records with since <= time <= until (both inclusive)."""
        if until < since or self.count == 0:
            return 0, 0
        lo = self._first_at_or_after(since)
        hi = self._first_at_or_after(until + dt.timedelta(seconds=1))
        return lo, max(lo, hi)

    def _first_at_or_after(self, moment: dt.datetime) -> int:
        lo, hi = 0, self.count
        while lo < hi:  # binary search: times are non-decreasing in the index
            mid = (lo + hi) // 2
            if self.time_of(mid) < moment:
                lo = mid + 1
            else:
                hi = mid
        return lo

    @property
    def last_time(self) -> dt.datetime:
        return self.time_of(self.count - 1)


def spread(count: int, start: str, end: str, id_offset: int = 0) -> Timeline:
    """`count` records spread evenly from `start` to `end` (ISO dates or date-times, UTC)."""
    begin, finish = parse_utc(start), parse_utc(end)
    step = (finish - begin).total_seconds() / max(count, 1)
    return Timeline(begin, step, count, id_offset)

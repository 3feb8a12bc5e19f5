"""Deterministic, lazily generated call timelines: record i happens at `start + i * step`.

Nothing is held in memory per record, so a timeline of a million calls costs nothing until a
page of it is served; the records of a time range are found by arithmetic, not by a scan.
`Moments` is the same interface over a short explicit list (an evenly spread timeline plus the
edges a test must meet: a second before and at a local midnight, both sides of a daylight-saving
change). Every record's time is a UTC instant; the vendors' modules render it in their zones with
`wall_clock` and read their zones' wall-clock bounds back with `instant_of`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC
Zone = ZoneInfo | dt.timezone
TEXT_FORMAT = "%Y-%m-%d %H:%M:%S"


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

    def index_range(self, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
        """Indices [lo, hi) of the records with since <= time <= until (both inclusive)."""
        if until < since or self.count == 0:
            return 0, 0
        lo = self.first_at_or_after(since)
        hi = self.first_at_or_after(until + dt.timedelta(seconds=1))
        return lo, max(lo, hi)

    def half_open_range(self, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
        """Indices [lo, hi) of the records with since <= time < until."""
        lo = self.first_at_or_after(since)
        return lo, max(lo, self.first_at_or_after(until))

    def first_at_or_after(self, moment: dt.datetime) -> int:
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


class Moments:
    """A timeline over an explicit, sorted list of whole-second UTC instants (the same interface as
    `Timeline`): for the few hundred records of an account whose edges a test must meet exactly."""

    def __init__(self, instants: Iterable[dt.datetime], id_offset: int = 0) -> None:
        self.instants: list[dt.datetime] = sorted(m.astimezone(UTC).replace(microsecond=0) for m in instants)
        self.id_offset = id_offset

    @property
    def count(self) -> int:
        return len(self.instants)

    def time_of(self, index: int) -> dt.datetime:
        return self.instants[index]

    def index_range(self, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
        """Indices [lo, hi) of the records with since <= time <= until (both inclusive)."""
        if until < since:
            return 0, 0
        return bisect.bisect_left(self.instants, since), bisect.bisect_right(self.instants, until)

    def half_open_range(self, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
        lo = bisect.bisect_left(self.instants, since)
        return lo, max(lo, bisect.bisect_left(self.instants, until))

    def first_at_or_after(self, moment: dt.datetime) -> int:
        return bisect.bisect_left(self.instants, moment)

    @property
    def last_time(self) -> dt.datetime:
        return self.instants[-1]


def with_edges(base: Timeline, edges: Iterable[str]) -> Moments:
    """The records of `base` and one more at each of `edges` (ISO UTC instants), in time order."""
    return Moments([base.time_of(i) for i in range(base.count)] + [parse_utc(e) for e in edges], base.id_offset)


# ---- zones ---------------------------------------------------------------------------------------
def zone_of(name: str) -> Zone:
    return UTC if name == "UTC" else ZoneInfo(name)


def wall_clock(moment: dt.datetime, zone: Zone, form: str = TEXT_FORMAT) -> str:
    """A UTC instant as the wall-clock time of `zone`, in `form`."""
    return (moment if zone is UTC else moment.astimezone(zone)).strftime(form)


def instant_of(local: dt.datetime, zone: Zone, repeated: int = 0) -> dt.datetime:
    """The UTC instant of a naive wall-clock time in `zone`. A time that a daylight-saving change
    makes happen twice is the first (`repeated` 0) or the second (1) of its two moments; a time the
    change skips is read as the first instant after the gap (the moment the clocks jumped)."""
    if zone is UTC:
        return local.replace(tzinfo=UTC)
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first.astimezone(zone).replace(tzinfo=None) == local:  # a repeated time: both moments show it
        return (first, second)[repeated]
    # A skipped time: fold=0 reads it with the offset before the change, fold=1 with the one after;
    # the change itself lies between the two readings.
    low, high = min(first, second), max(first, second)
    offset_before = low.astimezone(zone).utcoffset()
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset_before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def iso_z(moment: dt.datetime) -> str:
    """A UTC instant as ISO 8601 ending in Z: `2024-01-01T00:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_bound(value: None | str | dt.datetime, default: str) -> dt.datetime:
    """A bound of a truth helper: an ISO date or date-time (UTC unless it has an offset), or an aware datetime."""
    if value is None:
        value = default
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_utc(value)

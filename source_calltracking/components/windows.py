"""Date windows: a window slice's bounds as UTC moments, and a moment as an API's wall-clock time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.UTC


def window_bounds(stream_slice: Mapping[str, Any] | None) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and the last second of a window slice, as UTC datetimes; None for a slice that is
    not a date window."""
    if not stream_slice or stream_slice.get("start_time") is None or stream_slice.get("end_time") is None:
        return None
    return utc_moment(stream_slice["start_time"]), utc_moment(stream_slice["end_time"])


def utc_moment(text: str) -> dt.datetime:
    """An ISO 8601 date-time (`T` or a space; an offset or `Z`, else UTC) as an aware UTC datetime."""
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def wall_clock(moment: dt.datetime, zone: ZoneInfo, earlier: bool) -> str:
    """`moment` as the wall-clock time of `zone` ("2024-10-27T02:59:59"); a time that a daylight-saving
    change shows twice is moved out of the repeated hour, earlier or later, so that it can mean only
    one moment."""
    step = dt.timedelta(minutes=-30 if earlier else 30)
    for _ in range(8):  # no change repeats more than a few hours
        local = moment.astimezone(zone)
        if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
            return local.strftime("%Y-%m-%dT%H:%M:%S")
        moment += step
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")

"""Time zones: an API's wall-clock times as UTC instants (`event_time_utc`), with pendulum's zone rules.

Each provider speaks its own zone: ckct.ru's `callTime` the zone its account is set to, UIS the
account's `timezone` (`get.account`), RIA.com Kyiv time, CallKeeper UTC. `LocalClock` reads one
zone's "2024-03-31 02:30:00" as the instant it names, and `utc_text` writes an instant as
"2024-03-31T00:30:00Z", the one form of `event_time_utc` in every stream.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pendulum

UTC = dt.UTC
EVENT_TIME_FIELD = "event_time_utc"
EVENT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # the cursor format of the streams whose cursor it is


def utc_text(moment: dt.datetime) -> str:
    """An aware datetime as "YYYY-MM-DDThh:mm:ssZ" (whole seconds: every API here sends whole seconds)."""
    return moment.astimezone(UTC).strftime(EVENT_TIME_FORMAT)


def known_zone(name: str) -> bool:
    try:
        pendulum.timezone(name)
        return True
    except Exception:  # pendulum raises its own InvalidTimezone, or ValueError for a malformed name
        return False


class LocalClock:
    """Reads the wall-clock times of one zone as UTC instants.

    A time that a daylight-saving change shows twice (02:30 on 27 October 2024 in Kyiv) is read as its
    first occurrence, the earlier instant: without an offset the text cannot say which one it is, and
    the documents give none. A time the change skips (03:30 on 31 March 2024 in Kyiv) is read as the
    moment it would be once the clocks went forward. The UTC offset of each half hour of local time
    is worked out once with pendulum and kept: zone changes happen on the hour or the half hour, and a
    sync reads hundreds of thousands of times from a few thousand hours.
    """

    def __init__(self, zone: str) -> None:
        self.zone_name = zone
        self._zone = pendulum.timezone(zone)
        self._offsets: dict[tuple[str, bool], dt.timedelta | None] = {}
        self._lock = threading.Lock()

    def utc(self, value: Any) -> dt.datetime | None:
        """The instant a "YYYY-MM-DD hh:mm:ss" (or `T`) text names in this zone; a text with its own
        offset is read with it, a unix timestamp (a number, or digits) is an instant already. None for
        anything that is not a date-time."""
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return dt.datetime.fromtimestamp(value, UTC)
            except (ValueError, OverflowError, OSError):
                return None
        if not isinstance(value, str) or len(value) < 19:
            return None
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
        key = (value[:13], moment.minute >= 30)
        offset = self._offsets.get(key, False)
        if offset is False:
            offset = self._steady_offset(moment)
            with self._lock:
                self._offsets[key] = offset
        if offset is None:  # the half hour of a change: read this one time on its own
            return self._read(moment)
        return (moment - offset).replace(tzinfo=UTC)

    def utc_text(self, value: Any) -> str | None:
        moment = self.utc(value)
        return None if moment is None else utc_text(moment)

    def _steady_offset(self, moment: dt.datetime) -> dt.timedelta | None:
        """The one offset of the half hour `moment` is in, or None when a change falls inside it."""
        start = moment.replace(minute=30 if moment.minute >= 30 else 0, second=0, microsecond=0)
        ends = (start, start + dt.timedelta(minutes=29, seconds=59))
        offsets = {self._read(m) - m.replace(tzinfo=UTC) for m in ends}
        return -offsets.pop() if len(offsets) == 1 and all(self._unambiguous(m) for m in ends) else None

    def _unambiguous(self, moment: dt.datetime) -> bool:
        return self._at(moment, fold=0) == self._at(moment, fold=1)

    def _read(self, moment: dt.datetime) -> dt.datetime:
        earlier, later = self._at(moment, fold=0), self._at(moment, fold=1)
        if earlier == later:
            return earlier
        skipped = later.astimezone(self._zone).replace(tzinfo=None) != moment
        return later if skipped else earlier

    def _at(self, moment: dt.datetime, fold: int) -> dt.datetime:
        local = pendulum.datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, tz=self._zone, fold=fold
        )
        return dt.datetime.fromtimestamp(local.timestamp(), UTC)


_CLOCKS: dict[str, LocalClock] = {}


def clock(zone: str) -> LocalClock:
    """The one LocalClock of a zone (its offsets are shared by every stream)."""
    found = _CLOCKS.get(zone)
    if found is None:
        found = _CLOCKS.setdefault(zone, LocalClock(zone))
    return found

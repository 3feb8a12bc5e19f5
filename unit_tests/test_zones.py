"""LocalClock: an API's wall-clock times as UTC instants, across daylight-saving changes."""

import datetime as dt

import pytest

from source_calltracking.components.zones import LocalClock, clock, utc_text


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        ("Asia/Yekaterinburg", "2024-01-01 04:59:59", "2023-12-31T23:59:59Z"),  # UTC+5, no DST
        ("Asia/Yekaterinburg", "2024-07-01T05:00:00", "2024-07-01T00:00:00Z"),
        ("Europe/Moscow", "2024-03-31 03:00:00", "2024-03-31T00:00:00Z"),
        ("Europe/Kyiv", "2024-01-15 12:00:00", "2024-01-15T10:00:00Z"),  # winter, UTC+2
        ("Europe/Kyiv", "2024-07-15 12:00:00", "2024-07-15T09:00:00Z"),  # summer, UTC+3
        # Spring forward in Kyiv, 31 March 2024: 03:00 becomes 04:00.
        ("Europe/Kyiv", "2024-03-31 02:59:59", "2024-03-31T00:59:59Z"),
        ("Europe/Kyiv", "2024-03-31 04:00:00", "2024-03-31T01:00:00Z"),
        ("Europe/Kyiv", "2024-03-31 03:30:00", "2024-03-31T01:30:00Z"),  # skipped: read once the clocks went forward
        # Fall back in Kyiv, 27 October 2024: 04:00 becomes 03:00 again; the repeated hour is read as its first occurrence.
        ("Europe/Kyiv", "2024-10-27 02:59:59", "2024-10-26T23:59:59Z"),
        ("Europe/Kyiv", "2024-10-27 03:30:00", "2024-10-27T00:30:00Z"),
        ("Europe/Kyiv", "2024-10-27 04:00:00", "2024-10-27T02:00:00Z"),
        ("Europe/Berlin", "2024-10-27 02:15:00", "2024-10-27T00:15:00Z"),
        (
            "Australia/Lord_Howe",
            "2024-04-07 01:45:00",
            "2024-04-06T14:45:00Z",
        ),  # a half-hour change (+11 to +10:30), first occurrence
        ("UTC", "2024-02-29T23:59:59", "2024-02-29T23:59:59Z"),
    ],
)
def test_local_times_are_read_as_the_instants_they_name(zone, local, utc):
    assert LocalClock(zone).utc_text(local) == utc


def test_a_time_with_its_own_offset_or_a_unix_timestamp_is_an_instant_already():
    kyiv = clock("Europe/Kyiv")
    assert kyiv.utc_text("2024-07-01T00:00:00+05:00") == "2024-06-30T19:00:00Z"
    assert kyiv.utc_text("2024-07-01T00:00:00Z") == "2024-07-01T00:00:00Z"
    assert kyiv.utc_text(1704067200) == "2024-01-01T00:00:00Z"
    assert kyiv.utc_text("1704067200") == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize("value", [None, "", "-", "2024-13-01 00:00:00", "yesterday", True, [], "2024-01-01"])
def test_what_is_not_a_date_time_gives_none(value):
    assert clock("Europe/Moscow").utc_text(value) is None


def test_the_cached_offsets_agree_with_pendulum_for_every_half_hour_of_a_year_with_two_changes():
    """The cache keeps one offset per half hour; every half hour of 2024 in Kyiv, checked against a
    clock that reads each time on its own."""
    cached, fresh = LocalClock("Europe/Kyiv"), None
    moment = dt.datetime(2024, 1, 1)
    while moment.year == 2024:
        for second in (0, 1799):
            text = (moment + dt.timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
            fresh = LocalClock("Europe/Kyiv")
            assert cached.utc_text(text) == fresh.utc_text(text), text
        moment += dt.timedelta(minutes=30)


def test_utc_text_is_whole_seconds_with_z():
    assert utc_text(dt.datetime(2024, 5, 1, 12, 0, 0, 999, tzinfo=dt.timezone(dt.timedelta(hours=3)))) == "2024-05-01T09:00:00Z"

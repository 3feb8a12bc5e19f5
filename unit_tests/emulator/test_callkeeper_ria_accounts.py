"""The second accounts of the CallKeeper REST API and of RIA.com, RIA.com's Kyiv dates and days."""

from urllib.parse import urlencode

import pytest

from testkit.emulator.timeline import parse_utc, wall_clock, zone_of
from testkit.emulator.world import (
    CALLKEEPER_API_KEY,
    CALLKEEPER_SECOND_API_KEY,
    RIA_API_KEY,
    RIA_SECOND_API_KEY,
    RIA_SECOND_USER_ID,
    RIA_USER_ID,
)
from unit_tests.emulator.helpers import callkeeper_records, get

KYIV = zone_of("Europe/Kyiv")


def callkeeper(world, method, **params):
    status, body = get(f"{world.url('callkeeper')}/{method}?{urlencode(params)}")
    assert status == 200, body
    return body


def as_utc(date: str) -> str:
    """A call's `date` (UTC, in the seed's form) as `...Z`."""
    return parse_utc(date.replace(" ", "T")).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- CallKeeper REST API ----------------------------------------------------------------------------


def test_the_second_callkeeper_account_has_its_own_user_and_calls(world_with):
    world = world_with(callkeeper_to_bound="exclusive")  # date[to] not included: the window is half-open
    vendor = world.vendors["callkeeper"]
    users = []
    for key in (CALLKEEPER_API_KEY, CALLKEEPER_SECOND_API_KEY):
        body = callkeeper(world, "getUserInfo", api_key=key)
        users.append(body[0] if isinstance(body, list) else body.get("result", body))
        window = {"date[from]": "2024-02-01", "date[to]": "2024-03-01", "time_zone": "UTC"}
        got = callkeeper_records(callkeeper(world, "getCallsInfo", api_key=key, **window))
        truth = vendor.expected(key, "getCallsInfo", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z")
        assert {int(r["id"]): as_utc(r["date"]) for r in got} == truth and truth
        t2c = callkeeper_records(callkeeper(world, "getT2C", apiak=key, **window))
        assert sorted(int(r["id"]) for r in t2c) == sorted(vendor.expected(key, "getT2C", "2024-02-01", "2024-03-01"))
    assert users[0]["id"] != users[1]["id"] and users[1]["time_zone"] == "Asia/Yekaterinburg"
    sizes = {len(vendor.expected(key, "getCallsInfo")) for key in (CALLKEEPER_API_KEY, CALLKEEPER_SECOND_API_KEY)}
    assert len(sizes) == 2


def test_the_second_callkeeper_accounts_window_is_read_in_the_requests_zone(world_with):
    world = world_with(callkeeper_to_bound="exclusive")
    vendor = world.vendors["callkeeper"]
    got = callkeeper_records(
        callkeeper(
            world,
            "getCallsInfo",
            api_key=CALLKEEPER_SECOND_API_KEY,
            time_zone="Europe/Moscow",
            **{"date[from]": "2024-03-01", "date[to]": "2024-03-02"},
        )
    )
    truth = vendor.expected(CALLKEEPER_SECOND_API_KEY, "getCallsInfo", "2024-02-29T21:00:00Z", "2024-03-01T21:00:00Z")
    assert {int(r["id"]): as_utc(r["date"]) for r in got} == truth
    assert "2024-02-29T21:00:00Z" in truth.values()  # the call at Moscow midnight, 21:00 UTC the day before
    assert "2024-02-29T20:59:59Z" in vendor.expected(CALLKEEPER_SECOND_API_KEY, "getCallsInfo").values()


# ---- RIA.com --------------------------------------------------------------------------------------


def ria(world, key, user_id, since_day, until_day):
    status, body = get(
        f"{world.url('ria')}/auto/new/calls_stat?"
        + urlencode({"user_id": user_id, "from": since_day, "to": until_day, "api_key": key})
    )
    assert status == 200, body
    return body


def test_ria_dates_are_kyiv_wall_clock_times(world):
    vendor = world.vendors["ria"]
    truth = vendor.expected(RIA_API_KEY, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
    got = ria(world, RIA_API_KEY, RIA_USER_ID, "2024-01-01", "2024-01-02")
    by_id = {r["call_id"]: r["date"] for r in got}
    assert truth and all(by_id[k] == wall_clock(parse_utc(v), KYIV, "%Y-%m-%dT%H:%M:%S") for k, v in truth.items())
    first = min(truth, key=truth.get)
    assert truth[first] == "2024-01-01T00:00:00Z" and by_id[first] == "2024-01-01T02:00:00"  # EET, +02:00


def test_ria_days_are_kyiv_days_across_the_daylight_saving_change(world):
    vendor = world.vendors["ria"]
    got = ria(world, RIA_SECOND_API_KEY, RIA_SECOND_USER_ID, "2024-03-31", "2024-03-31")
    truth = vendor.expected(RIA_SECOND_API_KEY, "2024-03-30T22:00:00Z", "2024-03-31T21:00:00Z")  # a day of 23 hours
    assert {r["call_id"] for r in got} == set(truth) and len(got) == len(truth)
    dates = {r["date"] for r in got}
    assert {"2024-03-31T00:00:00", "2024-03-31T02:59:59", "2024-03-31T04:00:00", "2024-03-31T23:59:59"} <= dates
    assert not any(d.startswith("2024-03-31T03:") for d in dates)
    day_before = {r["date"] for r in ria(world, RIA_SECOND_API_KEY, RIA_SECOND_USER_ID, "2024-03-30", "2024-03-30")}
    day_after = {r["date"] for r in ria(world, RIA_SECOND_API_KEY, RIA_SECOND_USER_ID, "2024-04-01", "2024-04-01")}
    assert "2024-03-30T23:59:59" in day_before and "2024-04-01T00:00:00" in day_after


@pytest.mark.parametrize(
    "since_day, until_day, first_utc, last_utc, inside, outside",
    [
        # a call of 2023 in UTC is 1 January in Kyiv
        ("2024-01-01", "2024-01-01", "2023-12-31T22:00:00Z", "2024-01-01T22:00:00Z", ["2023-12-31T22:00:00Z"], []),
        (
            "2024-02-01",
            "2024-02-01",
            "2024-01-31T22:00:00Z",
            "2024-02-01T22:00:00Z",
            ["2024-01-31T22:00:00Z"],
            ["2024-01-31T21:59:59Z"],
        ),
        # 21:00 UTC on 30 April is already 1 May in Kyiv (EEST, +03:00)
        (
            "2024-04-30",
            "2024-04-30",
            "2024-04-29T21:00:00Z",
            "2024-04-30T21:00:00Z",
            ["2024-04-30T20:59:59Z"],
            ["2024-04-30T21:00:00Z"],
        ),
        (
            "2024-03-31",
            "2024-03-31",
            "2024-03-30T22:00:00Z",
            "2024-03-31T21:00:00Z",
            ["2024-03-30T22:00:00Z", "2024-03-31T20:59:59Z"],
            ["2024-03-30T21:59:59Z", "2024-03-31T21:00:00Z"],
        ),
        (
            "2024-03-30",
            "2024-04-01",
            "2024-03-29T22:00:00Z",
            "2024-04-01T21:00:00Z",
            ["2024-03-30T21:59:59Z", "2024-03-31T21:00:00Z"],
            [],
        ),
    ],
)
def test_ria_kyiv_days_at_their_midnight_edges(world, since_day, until_day, first_utc, last_utc, inside, outside):
    vendor = world.vendors["ria"]
    got = {r["call_id"]: r["date"] for r in ria(world, RIA_SECOND_API_KEY, RIA_SECOND_USER_ID, since_day, until_day)}
    truth = vendor.expected(RIA_SECOND_API_KEY, first_utc, last_utc)
    assert set(got) == set(truth) and truth
    assert min(got.values()) >= since_day + "T00:00:00" and max(got.values()) <= until_day + "T23:59:59"
    held = {v: k for k, v in vendor.expected(RIA_SECOND_API_KEY).items()}
    assert all(held[at] in got for at in inside) and not any(held[at] in got for at in outside)


def test_ria_second_account_is_its_own(world):
    vendor = world.vendors["ria"]
    assert ria(world, RIA_SECOND_API_KEY, RIA_USER_ID, "2024-01-01", "2024-04-30") == []  # another account's user_id
    second = ria(world, RIA_SECOND_API_KEY, RIA_SECOND_USER_ID, "2024-01-01", "2024-04-30")
    first = ria(world, RIA_API_KEY, RIA_USER_ID, "2024-01-01", "2024-04-30")
    assert len(second) != len(first)
    kyiv_days = vendor.expected(RIA_SECOND_API_KEY, "2023-12-31T22:00:00Z", "2024-04-30T21:00:00Z")  # 1 January - 30 April, Kyiv
    assert {r["call_id"] for r in second} == set(kyiv_days)
    # the older helper keeps its UTC days
    assert vendor.call_ids("2024-01-01", "2024-04-30", api_key=RIA_SECOND_API_KEY) == sorted(
        vendor.expected(RIA_SECOND_API_KEY, "2024-01-01", "2024-05-01")
    )


def test_ria_quotas_are_per_key(world):
    vendor = world.vendors["ria"]
    vendor.hourly_limit = 2
    for _ in range(2):
        ria(world, RIA_API_KEY, RIA_USER_ID, "2024-01-01", "2024-01-01")
    status, body = get(
        f"{world.url('ria')}/auto/new/calls_stat?"
        + urlencode({"user_id": RIA_USER_ID, "from": "2024-01-01", "to": "2024-01-01", "api_key": RIA_API_KEY})
    )
    assert status == 429 and body["error"]["code"] == "OVER_RATE_LIMIT"
    assert isinstance(ria(world, RIA_SECOND_API_KEY, RIA_SECOND_USER_ID, "2024-01-01", "2024-01-01"), list)

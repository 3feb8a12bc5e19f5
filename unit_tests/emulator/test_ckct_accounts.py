"""The ckct.ru emulator's second account and its zones: `callTime` in the account's server zone,
`localDate` in its client zone, `timezoneOffset` in the seed's form, `Y-m-d` bounds read in the server zone."""

import datetime as dt

import pytest

from testkit.emulator.ckct import timezone_offset
from testkit.emulator.timeline import parse_utc, wall_clock, zone_of
from testkit.emulator.world import (
    CKCT_API_KEY,
    CKCT_ROLE_KEY,
    CKCT_SECOND_API_KEY,
    CKCT_SECOND_CLIENT_ZONE,
    CKCT_SECOND_ROLE_KEY,
    CKCT_SECOND_SERVER_ZONE,
)
from unit_tests.emulator.helpers import ckct_id, ckct_records, get

PLAIN = {"ckct_page_length": 1000, "ckct_record_shapes": "new", "optional_fields": "present"}
SERVER, CLIENT = zone_of(CKCT_SECOND_SERVER_ZONE), zone_of(CKCT_SECOND_CLIENT_ZONE)


def unix(instant: str) -> str:
    return str(int(parse_utc(instant).timestamp()))


def test_the_second_account_has_its_own_calls(world_with):
    world = world_with(**PLAIN)
    vendor = world.vendors["ckct"]
    for key, role_key in ((CKCT_API_KEY, CKCT_ROLE_KEY), (CKCT_SECOND_API_KEY, CKCT_SECOND_ROLE_KEY)):
        for method, used in (("get", key), ("getByRole", role_key), ("getWithRole", key)):
            got = ckct_records(world, used, method, unix("2024-01-01T00:00:00Z"), unix("2024-04-30T23:59:59Z"))
            truth = vendor.expected(used, method, "2024-01-01T00:00:00Z", "2024-05-01T00:00:00Z")
            assert sorted(ckct_id(r) for r in got) == sorted(truth) and len(got) == len(truth) > 0
    first = vendor.expected(CKCT_API_KEY, "get")
    second = vendor.expected(CKCT_SECOND_API_KEY, "get")
    assert len(first) != len(second)
    # a key reads only its own account, and a user key is not a role key
    assert (
        get(f"{world.url('ckct')}/api/?json/v3/{CKCT_SECOND_API_KEY}/call/getByRole/0/2024-01-01/2024-01-31")[1]["inbound"][
            "error"
        ]
        == "User is not recognized"
    )


@pytest.mark.parametrize("overlap", [True, False])
def test_the_second_accounts_ids_repeat_the_firsts_or_not(world_with, overlap):
    vendor = world_with(ids_overlap_across_accounts=overlap, **PLAIN).vendors["ckct"]
    assert bool(set(vendor.expected(CKCT_API_KEY, "get")) & set(vendor.expected(CKCT_SECOND_API_KEY, "get"))) == overlap


def test_call_time_is_the_server_zone_and_local_date_the_clients(world_with):
    world = world_with(ckct_timezone_offset_form="utc", **PLAIN)
    truth = world.vendors["ckct"].expected(CKCT_SECOND_API_KEY, "get")
    got = ckct_records(world, CKCT_SECOND_API_KEY, "get", "2024-02-01", "2024-02-29")
    assert got
    for record in got:
        moment = parse_utc(truth[ckct_id(record)])
        assert record["callTime"] == wall_clock(moment, SERVER)  # Yekaterinburg, +05:00
        assert record["localDate"] == wall_clock(moment, CLIENT)  # Novosibirsk, +07:00
        assert record["timezoneOffset"] == "+0700"
        gap = dt.datetime.fromisoformat(record["localDate"]) - dt.datetime.fromisoformat(record["callTime"])
        assert gap == dt.timedelta(hours=2)  # as in doc 001's sample, 13:23:32 and 15:23:32


def test_the_default_account_keeps_its_rendering(world_with):
    world = world_with(ckct_timezone_offset_form="utc", **PLAIN)
    truth = world.vendors["ckct"].expected(CKCT_API_KEY, "get")
    record = ckct_records(world, CKCT_API_KEY, "get", "2024-01-01", "2024-01-01")[0]
    moment = parse_utc(truth[ckct_id(record)])
    assert record["callTime"] == moment.strftime("%Y-%m-%d %H:%M:%S")  # UTC
    assert record["localDate"] == (moment + dt.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")
    assert record["timezoneOffset"] == "+0300"


@pytest.mark.parametrize(
    "form, second, default", [("utc", "+0700", "+0300"), ("server", "+0200", "+0300"), ("sample", "+0020", "+0030")]
)
def test_timezone_offset_forms(world_with, form, second, default):
    world = world_with(ckct_timezone_offset_form=form, **PLAIN)
    assert {r["timezoneOffset"] for r in ckct_records(world, CKCT_SECOND_API_KEY, "get", "2024-03-01", "2024-03-05")} == {second}
    assert {r["timezoneOffset"] for r in ckct_records(world, CKCT_API_KEY, "get", "2024-03-01", "2024-03-05")} == {default}


def test_timezone_offset_of_a_zone_behind_the_server():
    moment = parse_utc("2024-01-15T12:00:00Z")
    moscow, yekaterinburg = zone_of("Europe/Moscow"), zone_of("Asia/Yekaterinburg")
    assert timezone_offset(moment, yekaterinburg, moscow, "server") == "-0200"
    assert timezone_offset(moment, yekaterinburg, moscow, "sample") == "-0020"
    assert timezone_offset(moment, yekaterinburg, zone_of("America/St_Johns"), "utc") == "-0330"


def test_a_day_is_a_day_of_the_server_zone(world_with):
    """2024-02-15 in Yekaterinburg runs from 2024-02-14 19:00:00 to 2024-02-15 18:59:59 UTC."""
    world = world_with(**PLAIN)
    truth = world.vendors["ckct"].expected(CKCT_SECOND_API_KEY, "get", "2024-02-14T19:00:00Z", "2024-02-15T19:00:00Z")
    got = ckct_records(world, CKCT_SECOND_API_KEY, "get", "2024-02-15", "2024-02-15")
    assert sorted(ckct_id(r) for r in got) == sorted(truth)
    times = {r["callTime"] for r in got}
    assert "2024-02-15 00:00:00" in times and all(t.startswith("2024-02-15 ") for t in times)
    assert "2024-02-14T18:59:59Z" not in truth.values() and "2024-02-14T19:00:00Z" in truth.values()
    # the default account's days are UTC days, as before
    default = world.vendors["ckct"].expected(CKCT_API_KEY, "get", "2024-02-15T00:00:00Z", "2024-02-16T00:00:00Z")
    assert sorted(ckct_id(r) for r in ckct_records(world, CKCT_API_KEY, "get", "2024-02-15", "2024-02-15")) == sorted(default)


def test_unix_bounds_are_instants(world_with):
    world = world_with(**PLAIN)
    got = ckct_records(world, CKCT_SECOND_API_KEY, "get", unix("2024-02-14T18:59:59Z"), unix("2024-02-14T19:00:00Z"))
    truth = world.vendors["ckct"].expected(CKCT_SECOND_API_KEY, "get", "2024-02-14T18:59:59Z", "2024-02-14T19:00:01Z")
    assert sorted(ckct_id(r) for r in got) == sorted(truth) and len(truth) == 2
    assert sorted(r["callTime"] for r in got) == ["2024-02-14 23:59:59", "2024-02-15 00:00:00"]


def test_doc_000s_time_start_is_the_server_zone_too(world_with):
    world = world_with(ckct_page_length=1000, ckct_record_shapes="old", ckct_time_start_form="text", optional_fields="present")
    truth = world.vendors["ckct"].expected(CKCT_SECOND_API_KEY, "get")
    got = ckct_records(world, CKCT_SECOND_API_KEY, "get", "2024-02-15", "2024-02-15")
    assert got and all(r["timeStart"] == wall_clock(parse_utc(truth[ckct_id(r)]), SERVER) for r in got)
    unix_world = world_with(
        ckct_page_length=1000, ckct_record_shapes="old", ckct_time_start_form="unix", optional_fields="present"
    )
    truth = unix_world.vendors["ckct"].expected(CKCT_SECOND_API_KEY, "get")
    got = ckct_records(unix_world, CKCT_SECOND_API_KEY, "get", "2024-02-15", "2024-02-15")
    assert got and all(r["timeStart"] == int(parse_utc(truth[ckct_id(r)]).timestamp()) for r in got)

"""The world's extra accounts and config helpers, and the zone arithmetic the vendors' emulators share."""

import datetime as dt

import pytest

from testkit.emulator.timeline import Moments, instant_of, iso_z, parse_utc, spread, wall_clock, with_edges, zone_of
from testkit.emulator.world import (
    FIRST_ACCOUNTS,
    SECOND_ACCOUNTS,
    UIS_AGENT_TOKEN,
    UIS_CLIENTS,
    accounts_block,
    secrets_of,
    uis_agent_block,
    world_config,
)


def test_three_uis_clients_one_forbidden_one_with_daylight_saving(world):
    assert len(UIS_CLIENTS) == 3 and [c["forbidden"] for c in UIS_CLIENTS].count(True) == 1
    zones = {c["timezone"] for c in UIS_CLIENTS}
    assert "Asia/Yekaterinburg" in zones and "Europe/Riga" in zones
    vendor = world.vendors["uis"]
    for client in UIS_CLIENTS:
        assert vendor.time_zone(client["user_id"]) == client["timezone"]
        assert vendor.client(client["user_id"]).forbidden == client["forbidden"]
    riga = vendor.expected("get.calls_report", "2024-03-30T00:00:00Z", "2024-04-02T00:00:00Z", user_id=310_002)
    offsets = {parse_utc(at).astimezone(zone_of("Europe/Riga")).utcoffset() for at in riga.values()}
    assert offsets == {dt.timedelta(hours=2), dt.timedelta(hours=3)}  # the data crosses the change


def test_accounts_blocks_and_secrets(world):
    for provider in ("callkeeper_calltracking", "callkeeper", "ria"):
        block = accounts_block(world, provider, names=("first", "second"))
        assert block["accounts"] == [
            {"name": "first", **FIRST_ACCOUNTS[provider]},
            {"name": "second", **SECOND_ACCOUNTS[provider]},
        ]
        assert "base_url" in block and not set(FIRST_ACCOUNTS[provider]) & set(block)
        config = world_config(world, [provider])
        config[provider] = block
        found = secrets_of(config)
        for account in block["accounts"]:
            for key in ("api_key", "role_api_key"):
                if key in account:
                    assert account[key] in found
        assert not any(account.get("user_id") in found for account in block["accounts"])  # an id, not a secret
    config = world_config(world, ["uis"])
    config["uis"] = uis_agent_block(world, [310_001])
    assert config["uis"]["user_ids"] == [310_001] and secrets_of(config) == [UIS_AGENT_TOKEN]
    assert "user_ids" not in uis_agent_block(world, None)


# ---- zone arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, local, repeated, instant",
    [
        ("Europe/Riga", "2024-03-31 02:59:59", 0, "2024-03-31T00:59:59Z"),
        ("Europe/Riga", "2024-03-31 03:00:00", 0, "2024-03-31T01:00:00Z"),  # skipped: the instant after the gap
        ("Europe/Riga", "2024-03-31 03:59:59", 1, "2024-03-31T01:00:00Z"),
        ("Europe/Riga", "2024-03-31 04:00:00", 0, "2024-03-31T01:00:00Z"),
        ("Europe/Riga", "2024-10-27 03:30:00", 0, "2024-10-27T00:30:00Z"),  # repeated: the first, or the second
        ("Europe/Riga", "2024-10-27 03:30:00", 1, "2024-10-27T01:30:00Z"),
        ("Europe/Berlin", "2024-03-31 02:30:00", 0, "2024-03-31T01:00:00Z"),
        ("Europe/Kyiv", "2024-03-31 03:15:00", 0, "2024-03-31T01:00:00Z"),
        ("Asia/Yekaterinburg", "2024-02-01 00:00:00", 1, "2024-01-31T19:00:00Z"),
        ("UTC", "2024-02-01 00:00:00", 0, "2024-02-01T00:00:00Z"),
    ],
)
def test_instant_of_a_wall_clock_time(zone, local, repeated, instant):
    assert iso_z(instant_of(dt.datetime.fromisoformat(local), zone_of(zone), repeated)) == instant


def test_wall_clock_and_moments():
    assert wall_clock(parse_utc("2024-03-31T01:00:00Z"), zone_of("Europe/Berlin")) == "2024-03-31 03:00:00"
    timeline = with_edges(spread(3, "2024-01-01", "2024-01-04"), ["2024-01-01T12:00:00Z"])
    assert isinstance(timeline, Moments) and timeline.count == 4
    assert timeline.index_range(parse_utc("2024-01-01T12:00:00Z"), parse_utc("2024-01-02T00:00:00Z")) == (1, 3)  # both included
    assert timeline.half_open_range(parse_utc("2024-01-01T12:00:00Z"), parse_utc("2024-01-02T00:00:00Z")) == (1, 2)

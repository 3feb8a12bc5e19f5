"""The UIS emulator's agent (partner) tokens: get.customer_users, get.account, one client's own data and
zone, a forbidden client, and one budget per token. Driven over HTTP through the started emulator."""

import datetime as dt

import pytest

from testkit.emulator.timeline import parse_utc, wall_clock, zone_of
from testkit.emulator.uis import DATED_METHODS, V2_METHODS
from testkit.emulator.variation import UIS_TIME_ZONES
from testkit.emulator.world import UIS_ACCESS_TOKEN, UIS_AGENT_TOKEN, UIS_CLIENTS
from unit_tests.emulator.helpers import rpc, rpc_error, rpc_result

CLIENT_IDS = [c["user_id"] for c in UIS_CLIENTS]
YEKATERINBURG, RIGA, FORBIDDEN = CLIENT_IDS
FMT = "%Y-%m-%d %H:%M:%S"


def calls(world, user_id, date_from, date_till, **params):
    """Every row of get.calls_report for one window, paged 1000 at a time."""
    rows, offset = [], 0
    while True:
        result = rpc_result(
            world,
            "get.calls_report",
            access_token=UIS_AGENT_TOKEN,
            user_id=user_id,
            date_from=date_from,
            date_till=date_till,
            offset=offset,
            limit=1000,
            **params,
        )
        rows += result["data"]
        offset += 1000
        if offset >= result["metadata"]["total_items"]:
            assert len(rows) == result["metadata"]["total_items"]
            return rows


# ---- get.customer_users ---------------------------------------------------------------------------


def test_customer_users_lists_every_client_of_the_agent_forbidden_one_included(world):
    result = rpc_result(world, "get.customer_users", access_token=UIS_AGENT_TOKEN)
    assert result["metadata"]["total_items"] == 3
    by_id = {row["id"]: row for row in result["data"]}
    assert sorted(by_id) == sorted(CLIENT_IDS)
    for client in UIS_CLIENTS:
        row = by_id[client["user_id"]]
        assert set(row) == {"id", "login", "name", "description", "customer_id"}
        assert (row["login"], row["name"], row["description"], row["customer_id"]) == (
            client["login"],
            client["name"],
            client["description"],
            client["customer_id"],
        )
    assert result["metadata"]["limits"]["day_remaining"] == result["metadata"]["limits"]["day_limit"] - 1


def test_customer_users_pages_like_a_report(world):
    seen = []
    for offset in range(4):
        result = rpc_result(world, "get.customer_users", access_token=UIS_AGENT_TOKEN, limit=1, offset=offset)
        assert result["metadata"]["total_items"] == 3
        seen += [row["id"] for row in result["data"]]
    assert sorted(seen) == sorted(CLIENT_IDS) and len(seen) == 3  # the page past the end is empty
    two = rpc_result(world, "get.customer_users", access_token=UIS_AGENT_TOKEN, limit=2, sort=[{"field": "id", "order": "desc"}])
    assert [row["id"] for row in two["data"]] == [FORBIDDEN, RIGA]


@pytest.mark.parametrize(
    "params, mnemonic, field",
    [
        ({"limit": 10_001}, "invalid_parameter_value", "limit"),
        ({"limit": 0}, "invalid_parameter_value", "limit"),
        ({"offset": 100_001}, "invalid_parameter_value", "offset"),
        ({"limit": "10"}, "data_type_error", "limit"),
        ({"user_id": 310_001}, "unexpected_parameters", "user_id"),
        ({"date_from": "2024-01-01 00:00:00"}, "unexpected_parameters", "date_from"),
        ({"fields": ["id", "timezone"]}, "invalid_parameter_value", "fields"),
        ({"sort": [{"field": "password", "order": "asc"}]}, "sort_prohibited", "sort"),
        ({"filter": {"field": "password", "operator": "=", "value": 1}}, "filter_prohibited", "filter"),
        ({"filter": {"field": "id", "operator": "~", "value": 1}}, "invalid_parameter_value", "filter"),
    ],
)
def test_customer_users_refuses_what_a_report_refuses(world, params, mnemonic, field):
    error = rpc_error(world, "get.customer_users", access_token=UIS_AGENT_TOKEN, **params)
    assert (error["data"]["mnemonic"], error["data"]["field"]) == (mnemonic, field)
    assert "access_token" not in error["data"]["params"]


def test_customer_users_fields_and_filter(world):
    result = rpc_result(
        world,
        "get.customer_users",
        access_token=UIS_AGENT_TOKEN,
        fields=["id", "login"],
        filter={"field": "id", "operator": "in", "value": [YEKATERINBURG, FORBIDDEN]},
    )
    assert sorted(result["data"], key=lambda r: r["id"]) == [
        {"id": YEKATERINBURG, "login": "ural_motors"},
        {"id": FORBIDDEN, "login": "closed_shop"},
    ]
    assert result["metadata"]["total_items"] == 2
    grouped = rpc_result(
        world,
        "get.customer_users",
        access_token=UIS_AGENT_TOKEN,
        filter={
            "filters": [
                {"field": "id", "operator": "!=", "value": RIGA},
                {"field": "login", "operator": "=", "value": "ural_motors"},
            ],
            "condition": "and",
        },
    )
    assert [row["id"] for row in grouped["data"]] == [YEKATERINBURG]


def test_a_client_token_may_not_list_customer_users(world):
    """A partner-only method: the token is valid, the method exists, so `forbidden` (not method_not_found)."""
    error = rpc_error(world, "get.customer_users", access_token=UIS_ACCESS_TOKEN)
    assert error["data"]["mnemonic"] == "forbidden" and error["code"] == -32003
    assert "partners only" in error["message"]


# ---- get.account ----------------------------------------------------------------------------------


def test_get_account_gives_each_clients_zone(world):
    for client in UIS_CLIENTS:
        if client["forbidden"]:
            continue
        result = rpc_result(world, "get.account", access_token=UIS_AGENT_TOKEN, user_id=client["user_id"])
        assert len(result["data"]) == 1 and result["metadata"]["total_items"] == 1
        assert result["data"][0]["timezone"] == client["timezone"] and result["data"][0]["name"] == client["name"]
        assert isinstance(result["data"][0]["app_id"], int)
    assert rpc_error(world, "get.account", access_token=UIS_AGENT_TOKEN)["data"]["mnemonic"] == "required_parameter_missed"
    for user_id, mnemonic in ((4, "invalid_parameter_value"), (str(RIGA), "data_type_error")):
        assert rpc_error(world, "get.account", access_token=UIS_AGENT_TOKEN, user_id=user_id)["data"]["mnemonic"] == mnemonic
    assert rpc_error(world, "get.account", access_token=UIS_ACCESS_TOKEN, limit=1)["data"]["mnemonic"] == "unexpected_parameters"


@pytest.mark.parametrize("zone", UIS_TIME_ZONES)
def test_the_default_account_has_the_seeds_zone_and_writes_its_times_in_it(world_with, zone):
    world = world_with(uis_time_zone=zone, record_order="ascending")
    assert rpc_result(world, "get.account", access_token=UIS_ACCESS_TOKEN)["data"][0]["timezone"] == zone
    vendor = world.vendors["uis"]
    first_id, first_at = next(iter(vendor.expected("get.goals_report", "2024-01-01", "2024-01-02").items()))
    local = wall_clock(parse_utc(first_at), zone_of(zone))
    result = rpc_result(
        world, "get.goals_report", access_token=UIS_ACCESS_TOKEN, date_from=local, date_till=local, fields=["id", "date_time"]
    )
    assert [(row["id"], row["date_time"]) for row in result["data"]] == [(first_id, local)]


def test_the_canonical_zone_is_moscow():
    from testkit.emulator.variation import Variation

    assert Variation.canonical().uis_time_zone == "Europe/Moscow"


# ---- a forbidden client -------------------------------------------------------------------------

CLIENT_METHODS = sorted(m for m in V2_METHODS if m != "get.visitors_report") + ["get.account"]


@pytest.mark.parametrize("method", CLIENT_METHODS)
def test_every_client_method_of_a_forbidden_client_answers_forbidden(world, method):
    params = {"date_from": "2024-01-01 00:00:00", "date_till": "2024-01-31 23:59:59"} if method in DATED_METHODS else {}
    params.update(
        {"get.chat_messages_report": {"chat_id": 5_000_000}, "get.financial_summary_report": {"year": 2024, "month": 1}}.get(
            method, {}
        )
    )
    answer = rpc(world, method, access_token=UIS_AGENT_TOKEN, user_id=FORBIDDEN, **params)
    assert answer["error"]["data"]["mnemonic"] == "forbidden" and answer["error"]["data"]["value"] == FORBIDDEN
    assert answer["jsonrpc"] == "2.0" and answer["id"] == 7 and "result" not in answer
    allowed = rpc(world, method, access_token=UIS_AGENT_TOKEN, user_id=RIGA, **params)
    assert "result" in allowed, allowed


# ---- one budget per token -------------------------------------------------------------------------


def test_every_client_of_an_agent_spends_one_budget(world):
    world.vendors["uis"].set_budget(UIS_AGENT_TOKEN, minute_limit=4, minute_seconds=3600)
    window = {"date_from": "2024-01-01 00:00:00", "date_till": "2024-01-10 00:00:00"}
    first = rpc_result(world, "get.calls_report", access_token=UIS_AGENT_TOKEN, user_id=YEKATERINBURG, **window)
    second = rpc_result(world, "get.calls_report", access_token=UIS_AGENT_TOKEN, user_id=RIGA, **window)
    third = rpc_result(world, "get.customer_users", access_token=UIS_AGENT_TOKEN)
    fourth = rpc_result(world, "get.account", access_token=UIS_AGENT_TOKEN, user_id=RIGA)
    assert [r["metadata"]["limits"]["minute_remaining"] for r in (first, second, third, fourth)] == [3, 2, 1, 0]
    refused = rpc_error(world, "get.calls_report", access_token=UIS_AGENT_TOKEN, user_id=YEKATERINBURG, **window)
    assert refused["data"]["mnemonic"] == "limit_exceeded"
    assert refused["data"]["metadata"]["limits"]["minute_remaining"] == 0
    # the default token has a budget of its own
    assert "result" in rpc(world, "get.calls_report", access_token=UIS_ACCESS_TOKEN, **window)


# ---- each client's own data ---------------------------------------------------------------------


def test_each_client_has_its_own_rows(world):
    vendor = world.vendors["uis"]
    window = {"date_from": "2024-01-10 00:00:00", "date_till": "2024-03-10 00:00:00"}
    totals = {}
    for user_id, token in ((None, UIS_ACCESS_TOKEN), (YEKATERINBURG, UIS_AGENT_TOKEN), (RIGA, UIS_AGENT_TOKEN)):
        extra = {} if user_id is None else {"user_id": user_id}
        result = rpc_result(
            world, "get.goals_report", access_token=token, limit=10_000, fields=["id", "date_time"], **window, **extra
        )
        totals[user_id] = result["metadata"]["total_items"]
        zone = vendor.client(user_id).zone
        since = dt.datetime.strptime(window["date_from"], FMT).replace(tzinfo=zone)
        until = dt.datetime.strptime(window["date_till"], FMT).replace(tzinfo=zone) + dt.timedelta(seconds=1)
        assert {row["id"] for row in result["data"]} == set(vendor.expected("get.goals_report", since, until, user_id=user_id))
    assert len(set(totals.values())) == 3, totals  # three accounts, three sizes


@pytest.mark.parametrize("overlap", [True, False])
def test_client_ids_repeat_or_not_as_the_seed_says(world_with, overlap):
    vendor = world_with(ids_overlap_across_accounts=overlap).vendors["uis"]
    yekaterinburg, riga, home = (set(vendor.expected("get.calls_report", user_id=u)) for u in (YEKATERINBURG, RIGA, None))
    assert bool(yekaterinburg & riga) == overlap and bool(riga & home) == overlap
    assert bool(set(vendor.visitor_ids(user_id=YEKATERINBURG)) & set(vendor.visitor_ids(user_id=RIGA))) == overlap


def test_an_agent_must_name_one_of_its_clients(world):
    window = {"date_from": "2024-01-01 00:00:00", "date_till": "2024-01-02 00:00:00"}
    missing = rpc_error(world, "get.calls_report", access_token=UIS_AGENT_TOKEN, **window)
    assert (missing["data"]["mnemonic"], missing["data"]["field"]) == ("required_parameter_missed", "user_id")
    error = rpc_error(world, "get.calls_report", access_token=UIS_AGENT_TOKEN, user_id=999, **window)
    assert (error["data"]["mnemonic"], error["data"]["field"]) == ("invalid_parameter_value", "user_id")


# ---- zones: rendering and reading -------------------------------------------------------------------


def test_yekaterinburg_days_begin_at_19_utc(world):
    vendor = world.vendors["uis"]
    rows = calls(world, YEKATERINBURG, "2024-02-01 00:00:00", "2024-02-01 23:59:59", fields=["id", "start_time"])
    truth = vendor.expected("get.calls_report", "2024-01-31T19:00:00Z", "2024-02-01T19:00:00Z", user_id=YEKATERINBURG)
    assert {row["id"]: row["start_time"] for row in rows} == {
        key: wall_clock(parse_utc(at), zone_of("Asia/Yekaterinburg")) for key, at in truth.items()
    }
    assert "2024-01-31T19:00:00Z" in truth.values() and "2024-01-31T18:59:59Z" not in truth.values()
    assert "2024-02-01 00:00:00" in {row["start_time"] for row in rows}


def test_the_other_datetimes_of_a_row_are_in_the_zone_too(world):
    rows = calls(world, YEKATERINBURG, "2024-02-01 00:00:00", "2024-02-20 23:59:59", fields=["id", "start_time", "finish_time"])
    finished = [r for r in rows if r.get("finish_time")]
    assert finished
    for row in finished:  # Yekaterinburg keeps one offset: the wall-clock difference is the real one
        took = dt.datetime.strptime(row["finish_time"], FMT) - dt.datetime.strptime(row["start_time"], FMT)
        assert dt.timedelta(0) <= took < dt.timedelta(hours=1)


def test_a_riga_day_of_daylight_saving_change_has_23_hours(world):
    vendor = world.vendors["uis"]
    rows = calls(world, RIGA, "2024-03-31 00:00:00", "2024-03-31 23:59:59", fields=["id", "start_time"])
    truth = vendor.expected("get.calls_report", "2024-03-30T22:00:00Z", "2024-03-31T21:00:00Z", user_id=RIGA)
    riga = zone_of("Europe/Riga")
    assert {row["id"]: row["start_time"] for row in rows} == {key: wall_clock(parse_utc(at), riga) for key, at in truth.items()}
    times = {row["start_time"] for row in rows}
    assert {"2024-03-31 00:00:00", "2024-03-31 02:59:59", "2024-03-31 04:00:00", "2024-03-31 23:59:59"} <= times
    assert not any(t.startswith("2024-03-31 03:") for t in times)  # the hour the clocks skipped
    assert wall_clock(parse_utc("2024-03-31T00:59:59Z"), riga) == "2024-03-31 02:59:59"  # EET, +02:00
    assert wall_clock(parse_utc("2024-03-31T01:00:00Z"), riga) == "2024-03-31 04:00:00"  # EEST, +03:00


def test_a_skipped_time_is_read_as_the_instant_after_the_gap(world):
    """03:30 did not happen in Riga on 31 March: as a bound it is 04:00 EEST, 01:00 UTC."""
    till = calls(world, RIGA, "2024-03-31 02:00:00", "2024-03-31 03:30:00", fields=["id", "start_time"])
    starts = {row["start_time"] for row in till}
    assert {"2024-03-31 02:59:59", "2024-03-31 04:00:00"} <= starts and max(starts) == "2024-03-31 04:00:00"
    since = calls(world, RIGA, "2024-03-31 03:30:00", "2024-03-31 04:00:00", fields=["id", "start_time"])
    assert [row["start_time"] for row in since] == ["2024-03-31 04:00:00"]


@pytest.mark.parametrize("repeated", [0, 1])
def test_a_repeated_time_is_read_as_the_seed_says(world_with, repeated):
    """03:30 happened twice in Riga on 27 October 2024 (00:30 and 01:30 UTC)."""
    from testkit.emulator.timeline import Moments

    world = world_with(uis_repeated_hour=repeated)
    client = world.vendors["uis"].client(RIGA)
    client.timelines["get.calls_report"] = Moments([parse_utc("2024-10-27T00:30:00Z"), parse_utc("2024-10-27T01:30:00Z")])
    rows = calls(world, RIGA, "2024-10-27 03:30:00", "2024-10-27 03:30:00", fields=["id", "start_time"])
    truth = world.vendors["uis"].expected("get.calls_report", user_id=RIGA)
    assert [row["start_time"] for row in rows] == ["2024-10-27 03:30:00"]
    assert truth[rows[0]["id"]] == ("2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z")[repeated]


def test_expected_is_half_open_and_in_utc(world):
    vendor = world.vendors["uis"]
    whole = vendor.expected("get.calls_report", user_id=RIGA)
    at = "2024-03-31T01:00:00Z"
    key = next(k for k, v in whole.items() if v == at)
    assert key in vendor.expected("get.calls_report", at, "2024-03-31T01:00:01Z", user_id=RIGA)
    assert key not in vendor.expected("get.calls_report", "2024-03-31T00:00:00Z", at, user_id=RIGA)
    assert all(v.endswith("Z") for v in whole.values())
    assert vendor.ids("get.calls_report", user_id=RIGA) == sorted(whole)  # the older helper agrees

"""UIS / CoMagic Data API against its emulator: every report, windows, paging, splitting, errors, state."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from airbyte_cdk.models import Status, SyncMode

from testkit.emulator.timeline import parse_utc, spread
from testkit.emulator.uis import MAX_OFFSET, TABLE, add_months
from testkit.emulator.world import END_DATE, START_DATE, UIS_ACCESS_TOKEN, UIS_BLOCKED_TOKEN, UIS_EXPIRED_TOKEN, build_world, world_config
from testkit.connector import (
    connection_status,
    error_messages,
    final_state,
    records_by_stream,
    run_check,
    run_discover,
    run_read,
    state_for,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
END = END_DATE + "T23:59:59"
METHODS = {spec["stream"]: method for method, spec in TABLE.items()}
STREAMS = list(METHODS)
WINDOWED = {
    "uis_communications": "date_time",
    "uis_calls": "start_time",
    "uis_call_legs": "start_time",
    "uis_goals": "date_time",
    "uis_chats": "date_time",
    "uis_offline_messages": "date_time",
    "uis_visitor_sessions": "date_time",
    "uis_financial_call_legs": "start_time",
}
PRIMARY_KEYS = {
    **{stream: ["id"] for stream in WINDOWED},
    "uis_financial_call_legs": ["call_session_id", "leg_id"],
    "uis_chat_messages": ["chat_id", "date_time", "source", "text"],
    "uis_visitors": ["id"],
    "uis_financial_summary": ["date"],
    "uis_sales": ["id"],
    "uis_api_requests": ["date_time", "request_id", "method", "ip_address"],
}
CURSORS = {**WINDOWED, "uis_chat_messages": "date_time", "uis_financial_summary": "date"}
FMT = "%Y-%m-%d %H:%M:%S"


def uis(emulator):
    return emulator.vendors["uis"]


def uis_config(emulator, **overrides):
    return world_config(emulator, ["uis"], **overrides)


def bodies(emulator, method=None):
    return [b for b in uis(emulator).log if method is None or b.get("method") == method]


def key(record, stream):
    return tuple(record[k] for k in PRIMARY_KEYS[stream])


def expected_keys(vendor, stream, since=START_DATE, until=END):
    method = METHODS[stream]
    if stream == "uis_chat_messages":
        return [(m["chat_id"], m["date_time"], m["source"], m["text"]) for c in vendor.chat_ids(since, until)
                for m in vendor.chat_messages(c)]
    if stream == "uis_visitors":
        return [(v,) for v in vendor.visitor_ids(since, until)]
    if stream == "uis_financial_summary":
        return [(d,) for month in range(1, 5) for d in vendor.financial_dates(2024, month)]
    if stream in ("uis_sales", "uis_api_requests"):
        return []
    return [tuple(row[k] for k in PRIMARY_KEYS[stream]) for row in vendor.rows(method, since, until)]


def window_of(body):
    params = body["params"]
    return dt.datetime.strptime(params["date_from"], FMT), dt.datetime.strptime(params["date_till"], FMT)


# ---- one full refresh of every stream, shared by the completeness and schema tests ------------------

@pytest.fixture(scope="module")
def full_refresh():
    with build_world() as world:
        output = run_read(uis_config(world), STREAMS, sync_mode=SyncMode.full_refresh)
        yield world, output


def test_full_refresh_reads_every_stream_without_errors(full_refresh):
    world, output = full_refresh
    assert not output.errors, error_messages(output)
    counts = {stream: len(records) for stream, records in records_by_stream(output).items()}
    vendor = uis(world)
    for stream in STREAMS:
        assert counts.get(stream, 0) == len(expected_keys(vendor, stream)), stream
    assert counts["uis_chat_messages"] > counts["uis_chats"] > 0
    assert 0 < counts["uis_visitors"] < counts["uis_visitor_sessions"]


def test_a_sync_prints_no_warning_that_windows_are_never_split(full_refresh):
    # The CDK cannot see the SPLIT_REQUEST_WINDOW filter inside the custom error handler and warns
    # once per stream; the connector drops that warning because the filter is there:
    _, output = full_refresh
    assert not [m for m in output.logs if "request_window_splitting" in (m.log.message or "")]
    manifest = yaml.safe_load((ROOT / "source_calltracking" / "manifest.yaml").read_text())
    uis_definitions = manifest["definitions"]["uis"]
    assert uis_definitions["filters"]["too_many_rows"]["action"] == "SPLIT_REQUEST_WINDOW"
    assert "#/definitions/uis/filters/too_many_rows" in uis_definitions["windowed_error_handler"]["response_filters"]
    assert uis_definitions["report_stream"]["retriever"]["requester"] == "#/definitions/uis/windowed_requester"


@pytest.mark.parametrize("stream", STREAMS)
def test_full_refresh_is_complete_without_duplicates(full_refresh, stream):
    world, output = full_refresh
    records = records_by_stream(output).get(stream, [])
    keys = [key(r, stream) for r in records]
    assert len(keys) == len(set(keys)), f"{stream}: duplicates"
    assert sorted(keys) == sorted(expected_keys(uis(world), stream)), f"{stream}: not what the API holds"


@pytest.mark.parametrize("stream", STREAMS)
def test_records_match_their_schema(full_refresh, stream):
    _, output = full_refresh
    schema = json.loads((SCHEMAS / f"{stream}.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    records = records_by_stream(output).get(stream, [])
    for record in records:
        validator.validate(record)
    if records:  # every documented field came back (the request listed them all); the CDK drops top-level nulls
        documented = {f["name"] for f in TABLE[METHODS[stream]]["fields"] if not f.get("example_only")}
        seen = set().union(*(record.keys() for record in records))
        assert documented <= seen, documented - seen


def test_requests_list_every_field_and_page_by_10000(full_refresh):
    world, _ = full_refresh
    for method, spec in TABLE.items():
        sent = bodies(world, method)
        if not sent:
            continue
        documented = [f["name"] for f in spec["fields"] if not f.get("example_only")]
        fields_key = "field" if spec["api_version"] == "3.0" else "fields"
        for body in sent:
            assert body["jsonrpc"] == "2.0" and isinstance(body["id"], int)
            assert body["params"][fields_key] == documented, method
            assert body["params"]["limit"] == 10000 and body["params"]["offset"] == 0, method  # small data: one page
            assert body["params"]["access_token"] == UIS_ACCESS_TOKEN
            assert "user_id" not in body["params"] and "customer_id" not in body["params"]


def test_requests_go_to_the_versioned_endpoints(full_refresh):
    world, _ = full_refresh
    paths = {r.path for r in world.requests_to("uis")}
    assert paths == {"/v2.0", "/v3.0"}
    v3 = [r for r in world.requests_to("uis") if r.path == "/v3.0"]
    assert sorted(json.loads(r.body)["method"] for r in v3) == ["get.api_requests_report", "get.sales_report"]


def test_v3_methods_the_api_lacks_are_skipped_with_a_warning(full_refresh):
    _, output = full_refresh
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    for method, stream in (("get.sales_report", "uis_sales"), ("get.api_requests_report", "uis_api_requests")):
        assert any(w.startswith(f"UIS: the API does not offer {method} (method_not_found") and f"Stream {stream} is skipped" in w
                   for w in warnings), warnings
    assert "uis_sales" not in records_by_stream(output)
    assert records_by_stream(output)["uis_calls"]  # the rest of the sync went on


def test_chat_messages_are_read_for_each_chat_once(full_refresh):
    world, output = full_refresh
    asked = [b["params"]["chat_id"] for b in bodies(world, "get.chat_messages_report")]
    assert sorted(asked) == sorted(uis(world).chat_ids(START_DATE, END))
    visitors = [b["params"]["visitor_id"] for b in bodies(world, "get.visitors_report")]
    assert len(visitors) == len(set(visitors)) == len(uis(world).visitor_ids(START_DATE, END))


def test_financial_summary_asks_month_by_month_and_adds_year_and_month(full_refresh):
    world, output = full_refresh
    asked = sorted((b["params"]["year"], b["params"]["month"]) for b in bodies(world, "get.financial_summary_report"))
    assert asked == [(2024, 1), (2024, 2), (2024, 3), (2024, 4)]
    for record in records_by_stream(output)["uis_financial_summary"]:
        assert (record["year"], record["month"]) == (int(record["date"][:4]), int(record["date"][5:7]))


# ---- catalog, spec, check ------------------------------------------------------------------------

def test_discover_declares_keys_cursors_and_modes(emulator):
    streams = {s.name: s for s in run_discover(uis_config(emulator)).catalog.catalog.streams}
    assert set(streams) == set(STREAMS)
    for name, stream in streams.items():
        assert stream.source_defined_primary_key == [[k] for k in PRIMARY_KEYS[name]], name
        modes = {m.value for m in stream.supported_sync_modes}
        if name in CURSORS:
            assert stream.default_cursor_field == [CURSORS[name]], name
            assert modes == {"full_refresh", "incremental"}, name
        else:
            assert modes == {"full_refresh"}, name


def test_spec_offers_the_uis_block():
    from source_calltracking import SourceCalltracking

    import logging

    spec = SourceCalltracking().spec(logging.getLogger()).connectionSpecification["properties"]["uis"]
    assert spec["required"] == ["access_token"]
    assert spec["properties"]["access_token"]["airbyte_secret"] is True
    assert spec["properties"]["user_id"]["type"] == "integer"
    assert spec["properties"]["base_url"]["default"] == "https://dataapi.uiscom.ru"
    assert set(spec["properties"]["base_url"]["examples"]) == {
        "https://dataapi.uiscom.ru", "https://dataapi.comagic.ru", "https://dataapi.callgear.com"}


def test_check_succeeds_with_one_cheap_request_and_any_base_url_form(emulator):
    config = uis_config(emulator)
    config["uis"]["base_url"] += "/"
    assert connection_status(run_check(config)).status == Status.SUCCEEDED
    sent = bodies(emulator)
    assert [b["method"] for b in sent] == ["get.financial_summary_report"]
    assert (sent[0]["params"]["year"], sent[0]["params"]["month"]) == (2024, 1)


@pytest.mark.parametrize("setup, expected", [
    ("bad_token", "UIS: the access token is invalid (access_token_invalid). Check uis.access_token"),
    ("expired_token", "UIS: the access token has expired (access_token_expired)."),
    ("blocked_token", "UIS: the access token is blocked (access_token_blocked)."),
    ("ip", "UIS: the IP address the connector runs from is not on the account's list of allowed addresses (ip_not_whitelisted)."),
    ("inactive", "UIS: the account is inactive (account_inactive)."),
    ("disabled", "UIS: the account's plan does not include get.financial_summary_report (method_component_disabled)."),
])
def test_check_names_the_cause_in_plain_words(emulator, setup, expected):
    config = uis_config(emulator)
    vendor = uis(emulator)
    if setup == "bad_token":
        config["uis"]["access_token"] = "notatoken0000000000000000000000000000000"
    elif setup == "expired_token":
        config["uis"]["access_token"] = UIS_EXPIRED_TOKEN
    elif setup == "blocked_token":
        config["uis"]["access_token"] = UIS_BLOCKED_TOKEN
    elif setup == "ip":
        vendor.ip_whitelisted = False
    elif setup == "inactive":
        vendor.accounts[0].active = False
    else:
        vendor.disabled_methods = {"get.financial_summary_report"}
    status = connection_status(run_check(config))
    assert status.status == Status.FAILED
    assert status.message.startswith(expected), status.message
    assert "(The API said: " in status.message


# ---- windows, paging, splitting ---------------------------------------------------------------

def test_ten_months_are_read_in_windows_within_the_limit(emulator):
    vendor = uis(emulator)
    vendor.timelines["get.calls_report"] = spread(2000, "2023-03-01", "2023-12-31T23:59:59")
    output = run_read(uis_config(emulator, start_date="2023-03-01", end_date="2023-12-31"), ["uis_calls"])
    assert not output.errors, error_messages(output)
    ids = [r.record.data["id"] for r in output.records]
    assert sorted(ids) == sorted(set(ids)) == sorted(vendor.ids("get.calls_report"))
    windows = sorted(window_of(b) for b in bodies(emulator, "get.calls_report"))
    assert len(windows) == 4  # 306 days in windows of 89 days
    assert windows[0][0] == dt.datetime(2023, 3, 1) and windows[-1][1] == dt.datetime(2023, 12, 31, 23, 59, 59)
    for (since, until), (next_since, _) in zip(windows, windows[1:]):
        assert next_since == until + dt.timedelta(seconds=1)  # no gap, no overlap
    for since, until in windows:
        assert until - since < dt.timedelta(days=89)  # under "3 months" and under "90 days" alike
        assert until <= add_months(since, 3)


def test_a_window_over_110000_rows_is_split_and_read_completely(emulator):
    vendor = uis(emulator)
    method = "get.financial_call_legs_report"
    vendor.timelines[method] = spread(112_000, "2024-01-02", "2024-01-20")
    output = run_read(uis_config(emulator, start_date="2024-01-01", end_date="2024-01-31"), ["uis_financial_call_legs"],
                      sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    keys = [(r.record.data["call_session_id"], r.record.data["leg_id"]) for r in output.records]
    assert len(keys) == len(set(keys)) == 112_000
    sent = bodies(emulator, method)
    assert max(b["params"]["offset"] for b in sent) <= MAX_OFFSET
    assert all(b["params"]["limit"] == 10000 for b in sent)
    # The 31-day window held all rows: it was split, and the windows actually paged hold <= 110000 rows each.
    paged = {window_of(b) for b in sent if b["params"]["offset"] > 0}
    assert len(paged) >= 2
    for since, until in paged:
        lo, hi = vendor.timelines[method].index_range(since.replace(tzinfo=dt.timezone.utc), until.replace(tzinfo=dt.timezone.utc))
        assert hi - lo <= 110_000
        offsets = sorted(b["params"]["offset"] for b in sent if window_of(b) == (since, until))
        assert offsets == list(range(0, hi - lo, 10000))  # every page once, stopping at total_items


def test_pages_follow_offsets_and_stop_at_total_items(emulator):
    """20000 rows: offsets 0 and 10000, and no third request for an empty page (total_items says it is done)."""
    vendor = uis(emulator)
    vendor.timelines["get.financial_call_legs_report"] = spread(20_000, "2024-01-01", "2024-01-10")
    output = run_read(uis_config(emulator, end_date="2024-01-31"), ["uis_financial_call_legs"])
    assert len(output.records) == 20_000
    sent = bodies(emulator, "get.financial_call_legs_report")
    assert [(b["params"]["offset"], b["params"]["limit"]) for b in sent] == [(0, 10000), (10000, 10000)]


# ---- errors ----------------------------------------------------------------------------------

def test_the_minute_limit_is_waited_out_then_the_read_goes_on(emulator):
    vendor = uis(emulator)
    vendor.set_budget(UIS_ACCESS_TOKEN, minute_limit=2, minute_seconds=1)
    output = run_read(uis_config(emulator), ["uis_goals", "uis_offline_messages"])
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    assert len(got["uis_goals"]) == 300 and len(got["uis_offline_messages"]) == 250
    assert "limit_exceeded" in vendor.errors_sent  # four windows, two requests a second
    assert len(bodies(emulator)) == 4 + vendor.errors_sent.count("limit_exceeded")


def test_requests_are_paced_by_the_minute_budget_the_answers_report(emulator):
    vendor = uis(emulator)
    vendor.timelines["get.calls_report"] = spread(25_000, START_DATE, END)  # 2 windows: 2 + 1 pages
    vendor.set_budget(UIS_ACCESS_TOKEN, minute_limit=3, minute_seconds=1)
    output = run_read(uis_config(emulator, concurrency_level=2), ["uis_calls"])
    assert not output.errors, error_messages(output)
    assert sorted(r.record.data["id"] for r in output.records) == vendor.ids("get.calls_report", START_DATE, END)
    assert vendor.errors_sent == []  # never asked for more than the minute grants
    assert len(bodies(emulator, "get.calls_report")) == 3
    waits = [m.log.message for m in output.logs if "left in this minute's Data API budget" in (m.log.message or "")]
    assert waits and waits[0].startswith("UIS: 1 request(s) left in this minute's Data API budget (minute_limit 3); waiting 1 s")


def test_the_emulator_counts_the_budgets_down_in_metadata(emulator):
    import requests

    url, params = emulator.url("uis") + "/v2.0", {"access_token": UIS_ACCESS_TOKEN, "year": 2024, "month": 1}
    limits = [requests.post(url, json={"jsonrpc": "2.0", "id": i, "method": "get.financial_summary_report",
                                       "params": params}).json()["result"]["metadata"]["limits"] for i in range(2)]
    assert limits[0]["minute_remaining"] - limits[1]["minute_remaining"] == 1
    assert limits[0]["day_remaining"] - limits[1]["day_remaining"] == 1
    assert set(limits[0]) == {"day_limit", "day_remaining", "day_reset", "minute_limit", "minute_remaining", "minute_reset"}


def test_limit_exceeded_and_internal_error_are_retried(emulator):
    vendor = uis(emulator)
    vendor.inject("internal_error", times=1)  # first: the exponential backoff starts short
    vendor.inject("limit_exceeded", times=1, minute_reset=0)
    output = run_read(uis_config(emulator, end_date="2024-02-29"), ["uis_goals"])
    assert not output.errors, error_messages(output)
    assert sorted(r.record.data["id"] for r in output.records) == vendor.ids("get.goals_report", START_DATE, "2024-02-29T23:59:59")
    assert vendor.errors_sent == ["internal_error", "limit_exceeded"]
    assert len(bodies(emulator, "get.goals_report")) == 1 + 2  # one window, two refusals


def test_a_used_up_day_limit_stops_with_a_clear_message_and_keeps_the_state(emulator):
    vendor = uis(emulator)
    vendor.timelines["get.calls_report"] = spread(900, "2023-03-01", "2023-12-31T23:59:59")
    vendor.set_budget(UIS_ACCESS_TOKEN, day_limit=2)
    config = uis_config(emulator, start_date="2023-03-01", end_date="2023-12-31", concurrency_level=1)
    output = run_read(config, ["uis_calls"])
    error = output.errors[-1].trace.error
    assert error.message.startswith("The sync did not finish. UIS: the Data API's daily request limit is used up "
                                    "(limit_exceeded, day_limit 2). The sync stopped here; what it read is saved")
    assert "Traceback" not in error.message
    state = final_state(output, "uis_calls")
    first_two = [r.record.data for r in output.records]
    assert first_two and len(first_two) < 900
    # The next day the sync continues from the saved state, not from the start date.
    vendor.set_budget(UIS_ACCESS_TOKEN, day_limit=100)
    vendor.log.clear()
    second = run_read(config, ["uis_calls"], state=state_for({"uis_calls": state}))
    assert not second.errors, error_messages(second)
    earliest = min(window_of(b)[0] for b in bodies(emulator, "get.calls_report"))
    assert earliest > dt.datetime(2023, 3, 1)
    ids = {r["id"] for r in first_two} | {r.record.data["id"] for r in second.records}
    assert ids == set(vendor.ids("get.calls_report"))


@pytest.mark.parametrize("mnemonic, field, expected", [
    ("date_interval_limit_reached", "date_till",
     "UIS: the API rejected the request to get.calls_report (date_interval_limit_reached, field date_till: Wrong period)."),
    ("invalid_parameter_value", "fields",
     "UIS: the API rejected the request to get.calls_report (invalid_parameter_value, field fields: Wrong period)."),
    ("method_not_found", None, "UIS: the API rejected the request to get.calls_report (method_not_found: Wrong period)."),
])
def test_a_rejected_request_is_a_system_error_with_mnemonic_and_field(emulator, mnemonic, field, expected):
    uis(emulator).inject(mnemonic, times=-1, field=field, message="Wrong period")
    output = run_read(uis_config(emulator), ["uis_calls"])
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    assert stream_error.message == expected
    assert stream_error.failure_type.value == final.failure_type.value == "system_error"
    assert final.message == f"The sync did not finish. {expected[:-1]} (stream uis_calls)."


def test_a_bad_token_during_read_is_a_config_error(emulator):
    config = uis_config(emulator)
    config["uis"]["access_token"] = "notatoken0000000000000000000000000000000"
    output = run_read(config, ["uis_calls", "uis_chat_messages"])
    final = output.errors[-1].trace.error
    assert final.failure_type.value == "config_error"
    assert final.message.startswith("The sync did not finish. UIS: the access token is invalid (access_token_invalid).")
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def test_the_emulator_refuses_what_the_api_refuses(emulator):
    """The emulator is strict, so the connector's requests are checked: offset cap, field names, 3 months."""
    import requests

    def ask(**params):
        body = {"jsonrpc": "2.0", "id": 7, "method": "get.calls_report",
                "params": {"access_token": UIS_ACCESS_TOKEN, "date_from": "2024-01-01 00:00:00",
                           "date_till": "2024-03-31 23:59:59", **params}}
        return requests.post(emulator.url("uis") + "/v2.0", json=body).json()["error"]["data"]

    assert (ask(offset=100_010)["mnemonic"], ask(offset=100_010)["field"]) == ("invalid_parameter_value", "offset")
    assert (ask(limit=10_001)["mnemonic"], ask(limit=10_001)["field"]) == ("invalid_parameter_value", "limit")
    assert (ask(fields=["tag_id"])["mnemonic"], ask(fields=["tag_id"])["field"]) == ("invalid_parameter_value", "fields")
    assert ask(date_till="2024-04-01 00:00:01")["mnemonic"] == "date_interval_limit_reached"
    assert ask(sort=[], extra=1)["mnemonic"] == "unexpected_parameters"
    error = ask(offset=100_010)
    assert error["metadata"]["limits"]["day_remaining"] > 0 and "access_token" not in error["params"]


# ---- state ---------------------------------------------------------------------------------

def test_incremental_round_trip_reads_new_rows_and_the_lookback(emulator):
    vendor = uis(emulator)
    config = uis_config(emulator)
    del config["end_date"]
    timeline = vendor.timelines["get.calls_report"]
    first = run_read(config, ["uis_calls"])
    assert not first.errors, error_messages(first)
    assert len(first.records) == timeline.count
    state = final_state(first, "uis_calls")
    assert state["start_time"] == timeline.last_time.strftime(FMT)

    timeline.count += 250  # new calls after the first sync
    vendor.log.clear()
    second = run_read(config, ["uis_calls"], state=state_for({"uis_calls": state}))
    assert not second.errors, error_messages(second)
    cursor = parse_utc(state["start_time"])
    expected = vendor.ids("get.calls_report", (cursor - dt.timedelta(days=1)).isoformat(), "2100-01-01")
    assert sorted(r.record.data["id"] for r in second.records) == sorted(expected)
    assert final_state(second, "uis_calls")["start_time"] == timeline.last_time.strftime(FMT)
    assert min(window_of(b)[0] for b in bodies(emulator)) == (cursor - dt.timedelta(days=1)).replace(tzinfo=None)


def test_chat_messages_follow_the_window_of_their_parent(emulator):
    vendor = uis(emulator)
    config = uis_config(emulator)
    del config["end_date"]
    first = run_read(config, ["uis_chat_messages"])
    assert not first.errors, error_messages(first)
    state = final_state(first, "uis_chat_messages")
    assert "uis_chats" in json.dumps(state["parent_state"])

    chats = vendor.timelines["get.chats_report"]
    chats.count += 20  # new chats
    vendor.log.clear()
    second = run_read(config, ["uis_chat_messages"], state=state_for({"uis_chat_messages": state}))
    assert not second.errors, error_messages(second)
    asked = {b["params"]["chat_id"] for b in bodies(emulator, "get.chat_messages_report")}
    # Only the chats of the parent's new window (its saved cursor minus the lookback), with all their messages.
    since = parse_utc(chats.time_of(chats.count - 21).strftime(FMT)) - dt.timedelta(days=1)
    assert asked == set(vendor.chat_ids(since.isoformat(), "2100-01-01"))
    assert len(asked) < chats.count
    got = sorted((r.record.data["chat_id"], r.record.data["text"]) for r in second.records)
    assert got == sorted((m["chat_id"], m["text"]) for c in asked for m in vendor.chat_messages(c))


def test_financial_summary_reads_the_month_of_its_cursor_again(emulator):
    vendor = uis(emulator)
    config = uis_config(emulator, end_date="2024-03-15")
    vendor.financial_days = (dt.date(2024, 1, 1), dt.date(2024, 3, 15))
    first = run_read(config, ["uis_financial_summary"])
    assert final_state(first, "uis_financial_summary")["date"] == "2024-03-15"
    vendor.financial_days = (dt.date(2024, 1, 1), dt.date(2024, 4, 10))  # March completed, April started
    vendor.log.clear()
    second = run_read(uis_config(emulator, end_date="2024-04-10"), ["uis_financial_summary"],
                      state=state_for({"uis_financial_summary": final_state(first, "uis_financial_summary")}))
    asked = sorted((b["params"]["year"], b["params"]["month"]) for b in bodies(emulator))
    assert asked == [(2024, 3), (2024, 4)]
    dates = sorted(r.record.data["date"] for r in second.records)
    assert dates[0] == "2024-03-01" and dates[-1] == "2024-04-10" and len(dates) == 31 + 10


# ---- agent accounts ----------------------------------------------------------------------------

def test_user_id_of_an_agent_account_goes_with_every_request(emulator):
    vendor = uis(emulator)
    vendor.accounts[0].agent_user_ids = (4242,)
    config = uis_config(emulator)
    output = run_read(config, ["uis_goals"])
    error = output.errors[-1].trace.error
    assert error.failure_type.value == "config_error"
    assert "UIS: the account is an agent (partner) account, which must say whose reports to read " \
           "(required_parameter_missed). Set uis.user_id" in error.message
    vendor.log.clear()
    config["uis"]["user_id"] = 4242
    output = run_read(config, ["uis_goals", "uis_sales"])
    assert not output.errors, error_messages(output)
    assert len(output.records) == 300
    assert all(b["params"].get("user_id") == 4242 for b in bodies(emulator) if b["method"] != "get.sales_report")
    assert [b["params"].get("customer_id") for b in bodies(emulator, "get.sales_report")] == [4242]


def test_v3_methods_are_read_when_the_api_offers_them(emulator):
    vendor = uis(emulator)
    vendor.v3_implemented = True
    output = run_read(uis_config(emulator), ["uis_sales", "uis_api_requests"], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    assert sorted(r["id"] for r in got["uis_sales"]) == sorted(vendor.ids("get.sales_report"))
    assert len(got["uis_api_requests"]) == vendor.timelines["get.api_requests_report"].count
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / "uis_sales.json").read_text()))
    for record in got["uis_sales"]:
        validator.validate(record)


# ---- the field table the manifest, the schemas and the emulator share ----------------------------

def test_requested_fields_schemas_and_emulator_agree_with_the_field_table():
    import subprocess
    import sys

    from source_calltracking.components.uis import REPORT_FIELDS

    check = subprocess.run([sys.executable, str(ROOT / "tools" / "uis_generate.py"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    for method, spec in TABLE.items():
        documented = [f["name"] for f in spec["fields"] if not f.get("example_only")]
        assert REPORT_FIELDS[method] == {"api_version": spec["api_version"], "fields": documented}, method
        schema = json.loads((SCHEMAS / f"{spec['stream']}.json").read_text())
        assert set(documented) <= set(schema["properties"]), method


def test_paging_never_asks_past_offset_100000_and_says_why():
    """For a request that cannot be split (the v3.0 methods take no dates) the rest is not dropped silently."""
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_calltracking.components.uis import UisOffsetPages

    pagination = UisOffsetPages(config={}, parameters={"method": "get.sales_report", "provider_name": "UIS"})
    holding = lambda total: {"result": {"data": [], "metadata": {"total_items": total}}}  # noqa: E731
    assert pagination.next_position(holding(150_000), 90_000, 10_000) == 100_000
    with pytest.raises(AirbyteTracedException) as raised:
        pagination.next_position(holding(150_000), 100_000, 10_000)
    assert raised.value.message.startswith("UIS: get.sales_report answered with 150000 rows for one request, more than the 110000")
    assert pagination.next_position(holding(110_000), 100_000, 10_000) is None  # everything read
    # The page length is the server's: a page shorter than the `limit` asked is not the last one.
    assert pagination.next_position(holding(30_000), 0, 9_999) == 9_999
    assert pagination.next_position(holding(30_000), 9_999, 0) is None  # an empty page ends the window



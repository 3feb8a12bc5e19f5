"""UIS reports, method by method: every stream reads what the API holds, once; each request lists the
report's fields and goes to its versioned endpoint; chat messages per chat, the financial summary
per month, agent accounts' user_id, and the v3.0 methods whether the API offers them or not."""

import json

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.helpers import SCHEMAS
from integration_tests.uis.helpers import END, METHODS, PRIMARY_KEYS, STREAMS, bodies, uis, uis_config
from testkit.connector import error_messages, records_by_stream, run_read
from testkit.emulator.uis import TABLE
from testkit.emulator.world import START_DATE, UIS_ACCESS_TOKEN


def key(record, stream):
    return tuple(record[k] for k in PRIMARY_KEYS[stream])


def expected_keys(vendor, stream, since=START_DATE, until=END):
    method = METHODS[stream]
    if stream == "uis_chat_messages":
        return [
            (m["chat_id"], m["date_time"], m["source"], m["text"])
            for c in vendor.chat_ids(since, until)
            for m in vendor.chat_messages(c)
        ]
    if stream == "uis_visitors":
        return [(v,) for v in vendor.visitor_ids(since, until)]
    if stream == "uis_financial_summary":
        return [(d,) for month in range(1, 5) for d in vendor.financial_dates(2024, month)]
    if stream in ("uis_sales", "uis_api_requests"):
        return []
    return [tuple(row[k] for k in PRIMARY_KEYS[stream]) for row in vendor.rows(method, since, until)]


def test_full_refresh_reads_every_stream_without_errors(full_refresh):
    world, output = full_refresh
    assert not output.errors, error_messages(output)
    counts = {stream: len(records) for stream, records in records_by_stream(output).items()}
    vendor = uis(world)
    for stream in STREAMS:
        assert counts.get(stream, 0) == len(expected_keys(vendor, stream)), stream
    assert counts["uis_chat_messages"] > counts["uis_chats"] > 0
    assert 0 < counts["uis_visitors"] < counts["uis_visitor_sessions"]


@pytest.mark.parametrize("stream", STREAMS)
def test_full_refresh_is_complete_without_duplicates(full_refresh, stream):
    world, output = full_refresh
    records = records_by_stream(output).get(stream, [])
    keys = [key(r, stream) for r in records]
    assert len(keys) == len(set(keys)), f"{stream}: duplicates"
    assert sorted(keys) == sorted(expected_keys(uis(world), stream)), f"{stream}: not what the API holds"


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
        assert any(
            w.startswith(f"UIS: the API does not offer {method} (method_not_found") and f"Stream {stream} is skipped" in w
            for w in warnings
        ), warnings
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


def test_user_id_of_an_agent_account_goes_with_every_request(emulator):
    vendor = uis(emulator)
    vendor.accounts[0].agent_user_ids = (4242,)
    config = uis_config(emulator)
    output = run_read(config, ["uis_goals"])
    error = output.errors[-1].trace.error
    assert error.failure_type.value == "config_error"
    assert (
        "UIS: the account is an agent (partner) account, which must say whose reports to read "
        "(required_parameter_missed). Set uis.user_id" in error.message
    )
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

"""Builders for the HttpMocker tests of the UIS Data API: a config, the JSON-RPC request of one page
of a report (every documented field, a window, an offset), a row, and the answer of one page. Rows
and pages start from uis_calls_report.json: "JSON структура ответа" of get.calls_report, its types
filled with sample values (an enum with its first documented value), and `result.metadata` with
`total_items`, `limits` and `api_version`."""

import json

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import (
    FieldPath,
    NestedPath,
    RecordBuilder,
    create_record_builder,
    create_response_builder,
)

from testkit.emulator.uis import TABLE  # the field table of the documents (tools/uis_fields.yaml)
from unit_tests.helpers import template

TOKEN = "t" * 40
BASE = "https://uis.example"
ROWS = NestedPath(["result", "data"])


def a_config(**overrides):
    """2024-01-01 .. 2024-01-10: one window of every windowed report."""
    return {"start_date": "2024-01-01", "end_date": "2024-01-10", "uis": {"access_token": TOKEN, "base_url": BASE}, **overrides}


def documented_fields(method):
    return [f["name"] for f in TABLE[method]["fields"] if not f.get("example_only")]


def a_report_request(method, date_from, date_till, offset, limit=10000) -> HttpRequest:
    """One page of a v2.0 report: the body is compared as JSON, whole."""
    return HttpRequest(
        f"{BASE}/v2.0",
        body={
            "jsonrpc": "2.0",
            "id": 1,
            "method": method,
            "params": {
                "access_token": TOKEN,
                "fields": documented_fields(method),
                "offset": offset,
                "limit": limit,
                "date_from": date_from,
                "date_till": date_till,
            },
        },
    )


def a_row(row_id, start_time, **fields) -> RecordBuilder:
    """A row of get.calls_report with this id, start time and these fields."""
    row = (
        create_record_builder(
            template("uis_calls_report"), ROWS, record_id_path=FieldPath("id"), record_cursor_path=FieldPath("start_time")
        )
        .with_id(row_id)
        .with_cursor(start_time)
    )
    for name, value in fields.items():
        row.with_field(FieldPath(name), value)
    return row


def a_page(rows, total_items) -> HttpResponse:
    """A page of rows, and `metadata.total_items`, the rows of the whole window."""
    page = template("uis_calls_report")
    page["result"]["metadata"]["total_items"] = total_items
    response = create_response_builder(page, ROWS)
    for row in rows:
        response.with_record(row)
    return response.build()


def an_account_request(user_id=None) -> HttpRequest:
    """get.account: the account's time zone (the API notes), asked once per account and sync."""
    params = {"access_token": TOKEN, **({"user_id": user_id} if user_id is not None else {})}
    return HttpRequest(f"{BASE}/v2.0", body={"jsonrpc": "2.0", "id": 1, "method": "get.account", "params": params})


def an_account(timezone) -> HttpResponse:
    return HttpResponse(
        json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"data": [{"app_id": 1, "name": "Shop", "timezone": timezone}]}})
    )

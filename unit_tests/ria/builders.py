"""Builders for the HttpMocker tests of RIA.com calls_stat: a config, the request of one window of
whole days, a call, and the answer (a bare JSON array of calls). Calls start from ria_calls_stat.json,
the sample answer of "Получение данных о звонке"."""

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import (
    FieldPath,
    RecordBuilder,
    RootPath,
    create_record_builder,
    create_response_builder,
)

from unit_tests.helpers import template

KEY = "k" * 40
USER_ID = "1"
BASE = "https://ria.example/"


def a_config(**block):
    """2024-01-01 .. 2024-01-10, with these settings of the `ria` block."""
    return {
        "start_date": "2024-01-01",
        "end_date": "2024-01-10",
        "ria": {"api_key": KEY, "user_id": USER_ID, "base_url": BASE, **block},
    }


def a_calls_stat_request(since, until) -> HttpRequest:
    """One window: `from` and `to` are whole days, both included."""
    return HttpRequest(
        f"{BASE}auto/new/calls_stat", query_params={"user_id": USER_ID, "from": since, "to": until, "api_key": KEY}
    )


def a_call(call_id, date, status="ANSWER", **fields) -> RecordBuilder:
    """The document's first sample call with this id, date, status and these fields."""
    call = (
        create_record_builder(
            template("ria_calls_stat"), RootPath(), record_id_path=FieldPath("call_id"), record_cursor_path=FieldPath("date")
        )
        .with_id(call_id)
        .with_cursor(date)
        .with_field(FieldPath("status"), status)
    )
    for name, value in fields.items():
        call.with_field(FieldPath(name), value)
    return call


def a_bare_array(calls) -> HttpResponse:
    response = create_response_builder(template("ria_calls_stat"), RootPath())
    for call in calls:
        response.with_record(call)
    return response.build()

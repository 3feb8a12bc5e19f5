"""Builders for the HttpMocker tests of the CallKeeper REST API (api.callkeeper.ru): a config, the
request of one date window of a call method, a call, and the answer that holds the calls. The answer
starts from callkeeper_getCallsInfo.json: a call with every field of "Параметры ответа в формате JSON"
("Использование HTTPS REST API CallKeeper", which shows no sample of it), in the container
`{"status": "success", "result": [...]}` that published clients read."""

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath, RecordBuilder, create_record_builder, create_response_builder

from unit_tests.helpers import template

KEY = "0123456789abcdef" * 2  # the hexadecimal key of the Profile tab
BASE = "https://callkeeper.example/"


def a_config(**block):
    """2024-01-01 .. 2024-01-10, with these settings of the `callkeeper` block."""
    return {"start_date": "2024-01-01", "end_date": "2024-01-10", "callkeeper": {"api_key": KEY, "base_url": BASE, **block}}


def a_window_request(method, date_from, date_to, time_zone="UTC") -> HttpRequest:
    """One window of a call method: its bounds as wall-clock times in `time_zone`, and the key."""
    return HttpRequest(
        f"{BASE}{method}", query_params={"api_key": KEY, "date[from]": date_from, "date[to]": date_to, "time_zone": time_zone}
    )


def a_call(call_id, date, status=(200, 200)) -> RecordBuilder:
    """A call as getCallsInfo sends it: `date` in UTC, the status as a pair of codes."""
    return (
        create_record_builder(
            template("callkeeper_getCallsInfo"),
            FieldPath("result"),
            record_id_path=FieldPath("id"),
            record_cursor_path=FieldPath("date"),
        )
        .with_id(call_id)
        .with_cursor(date)
        .with_field(FieldPath("status_code"), status[0])
        .with_field(FieldPath("status2_code"), status[1])
    )


def a_result(calls) -> HttpResponse:
    response = create_response_builder(template("callkeeper_getCallsInfo"), FieldPath("result"))
    for call in calls:
        response.with_record(call)
    return response.build()

"""Builders for the HttpMocker tests of ckct.ru (CallKeeper call tracking): a config, the request of
one page of `call/get`, calls of either shape, and the answers the API gives (an envelope with
counters, a bare array, an error). The answers start from the documents' samples:
calltracking_call_get.json ("Метод получения звонков пользователя": the envelope, a call of the older
shape) and calltracking_call_get_array.json / calltracking_error.json ("API коллтрекинг (выгрузка
звонков)": the bare array of calls of the newer shape, the error envelope)."""

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import (
    FieldPath,
    RecordBuilder,
    RootPath,
    create_record_builder,
    create_response_builder,
)

from unit_tests.helpers import template

KEY = "k3yk3yk3yk3yk3y1"
BASE = "https://ckct.example/api/"
# The one window of a_config(), 2024-01-01 00:00:00 .. 2024-01-10 23:59:59 UTC, in ckct.ru's unix seconds.
FROM, TO = 1704067200, 1704931199


def a_config():
    return {
        "start_date": "2024-01-01",
        "end_date": "2024-01-10",
        "callkeeper_calltracking": {"api_key": KEY, "base_url": BASE, "window_days": 30},
    }


def a_page_request(page, since=FROM, until=TO) -> HttpRequest:
    """`call/get` of one page of a window. ckct.ru takes the whole request in the query string,
    without keys: HttpMocker, which compares query strings as key=value pairs, tells no two of these
    apart (see test_paging.py)."""
    return HttpRequest(f"{BASE}?json/v3/{KEY}/call/get/{page}/{since}/{until}")


def a_call(universal_id, call_time="2024-01-05 10:00:00") -> RecordBuilder:
    """A call of the newer shape (`universalId`, `callTime`, ...), the document's sample with this id and time."""
    return (
        create_record_builder(
            template("calltracking_call_get_array"),
            RootPath(),
            record_id_path=FieldPath("universalId"),
            record_cursor_path=FieldPath("callTime"),
        )
        .with_id(universal_id)
        .with_cursor(call_time)
    )


def calls(first, count):
    """`count` calls of the newer shape, with the ids first, first + 1, ... (as text, as the document sends them)."""
    return [a_call(str(first + i)) for i in range(count)]


def an_old_call(call_id, time_start) -> RecordBuilder:
    """A call of the older shape (`callId`, `timeStart`, ...): the envelope document's sample, whose
    `timeStart` is null (so it is no cursor path a builder could check)."""
    return (
        create_record_builder(template("calltracking_call_get"), FieldPath("payload"), record_id_path=FieldPath("callId"))
        .with_id(call_id)
        .with_field(FieldPath("timeStart"), time_start)
    )


def an_envelope(calls, of_pages, total_length, page=0, page_length=1000) -> HttpResponse:
    """A page in the envelope, with its counters: how many pages (`info.ofPages`) and calls
    (`info.totalLength`) the window has, and the page asked for (`inbound.requestedParams`)."""
    envelope = template("calltracking_call_get")
    envelope["inbound"]["requestedParams"].update(requirePage=page, startDate=FROM, endDate=TO)
    envelope["info"].update(pageLength=page_length, totalLength=total_length, ofPages=of_pages)
    response = create_response_builder(envelope, FieldPath("payload"))
    for call in calls:
        response.with_record(call)
    return response.build()


def a_bare_array(calls) -> HttpResponse:
    """A page as a bare array of calls: no counters, so the end of the window is found by asking on."""
    response = create_response_builder(template("calltracking_call_get_array"), RootPath())
    for call in calls:
        response.with_record(call)
    return response.build()


def an_error(text) -> HttpResponse:
    """The API's error answer (HTTP 200), e.g. "Incorrect page is set" past the last page."""
    error = template("calltracking_error")
    error["inbound"]["error"] = text
    return create_response_builder(error, FieldPath("payload")).build()

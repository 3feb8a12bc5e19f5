"""Builders for the HttpMocker tests of ckct.ru (CallKeeper call tracking): a config, the request of
one page of `call/get`, and the answers the API gives (an envelope with counters, a bare array, an
error)."""

import json

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse

KEY = "k3yk3yk3yk3yk3y1"
BASE = "https://ckct.example/api/"
# The one window of a_config(), 2024-01-01 00:00:00 .. 2024-01-10 23:59:59 UTC, in ckct.ru's unix seconds.
FROM, TO = 1704067200, 1704931199


def a_config():
    return {"start_date": "2024-01-01", "end_date": "2024-01-10",
            "callkeeper_calltracking": {"api_key": KEY, "base_url": BASE, "window_days": 30}}


def a_page_request(page, since=FROM, until=TO) -> HttpRequest:
    """`call/get` of one page of a window. ckct.ru takes the whole request in the query string,
    without keys: HttpMocker, which compares query strings as key=value pairs, tells no two of these
    apart (see test_paging.py)."""
    return HttpRequest(f"{BASE}?json/v3/{KEY}/call/get/{page}/{since}/{until}")


def calls(first, count):
    """`count` calls in today's shape, with the ids first, first + 1, ..."""
    return [{"universalId": str(first + i), "callTime": "2024-01-05 10:00:00"} for i in range(count)]


def an_envelope(calls, of_pages, page_length=1000) -> HttpResponse:
    """A page in the envelope, which says how many pages the window has (`info.ofPages`)."""
    return HttpResponse(json.dumps({"inbound": {"requestedParams": {"requirePage": 0}},
                                    "info": {"pageLength": page_length, "ofPages": of_pages}, "payload": calls}))


def a_bare_array(calls) -> HttpResponse:
    """A page as a bare array of calls: no counters, so the end of the window is found by asking on."""
    return HttpResponse(json.dumps(calls))


def an_error(text) -> HttpResponse:
    """The API's error answer (HTTP 200), e.g. "Incorrect page is set" past the last page."""
    return HttpResponse(json.dumps({"inbound": {"error": text}, "payload": []}))

"""Builders for the HttpMocker tests of RIA.com calls_stat: a config, the request of one window of
whole days, a call, and the answer (a bare JSON array of calls)."""

import json

from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse

KEY = "k" * 40
USER_ID = "1"
BASE = "https://ria.example/"


def a_config(**block):
    """2024-01-01 .. 2024-01-10, with these settings of the `ria` block."""
    return {"start_date": "2024-01-01", "end_date": "2024-01-10",
            "ria": {"api_key": KEY, "user_id": USER_ID, "base_url": BASE, **block}}


def a_calls_stat_request(since, until) -> HttpRequest:
    """One window: `from` and `to` are whole days, both included."""
    return HttpRequest(f"{BASE}auto/new/calls_stat",
                       query_params={"user_id": USER_ID, "from": since, "to": until, "api_key": KEY})


def a_call(call_id, date, status="ANSWER", **fields):
    return {"call_id": call_id, "date": date, "status": status, **fields}


def a_bare_array(calls) -> HttpResponse:
    return HttpResponse(json.dumps(calls))

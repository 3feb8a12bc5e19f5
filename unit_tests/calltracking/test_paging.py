"""ckct.ru paging and response shapes, with the CDK's HttpMocker (no server)."""

import json

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_calltracking import SourceCalltracking

KEY = "k3yk3yk3yk3yk3y1"
BASE = "https://ckct.example/api/"
CONFIG = {"start_date": "2024-01-01", "end_date": "2024-01-10",
          "callkeeper_calltracking": {"api_key": KEY, "base_url": BASE, "window_days": 30}}
FROM, TO = 1704067200, 1704931199  # 2024-01-01 00:00:00 .. 2024-01-10 23:59:59 UTC


def url(page):
    return f"{BASE}?json/v3/{KEY}/call/get/{page}/{FROM}/{TO}"


def calls(first, count):
    return [{"universalId": str(first + i), "callTime": "2024-01-05 10:00:00"} for i in range(count)]


def envelope(records, of_pages):
    return json.dumps({"inbound": {"requestedParams": {"requirePage": 0}}, "info": {"pageLength": 1000, "ofPages": of_pages}, "payload": records})


def sync():
    catalog = CatalogBuilder().with_stream("calltracking_calls", SyncMode.full_refresh).build()
    return read(SourceCalltracking(config=CONFIG, catalog=catalog), CONFIG, catalog)


def test_envelope_paging_stops_at_of_pages_without_an_extra_request():
    with HttpMocker() as http_mocker:
        _test_envelope_paging_stops_at_of_pages_without_an_extra_request(http_mocker)


def _test_envelope_paging_stops_at_of_pages_without_an_extra_request(http_mocker):
    # The page number sits in the query string without a key, which HttpMocker does not tell apart:
    # one matcher answers the pages in order, and a third request would find no response left.
    http_mocker.get(HttpRequest(url(0)), [HttpResponse(envelope(calls(0, 1000), 2)), HttpResponse(envelope(calls(1000, 1000), 2))])
    output = sync()
    assert [r.record.data["record_id"] for r in output.records] == [str(i) for i in range(2000)]
    assert not output.errors


def test_bare_array_paging_stops_on_incorrect_page():
    with HttpMocker() as http_mocker:
        _test_bare_array_paging_stops_on_incorrect_page(http_mocker)


def _test_bare_array_paging_stops_on_incorrect_page(http_mocker):
    http_mocker.get(HttpRequest(url(0)), [HttpResponse(json.dumps(calls(0, 1000))),
                                          HttpResponse(json.dumps({"inbound": {"error": "Incorrect page is set"}, "payload": []}))])
    output = sync()
    assert len(output.records) == 1000
    assert not output.errors


def test_old_record_shape_gets_its_key_and_cursor():
    with HttpMocker() as http_mocker:
        _test_old_record_shape_gets_its_key_and_cursor(http_mocker)


def _test_old_record_shape_gets_its_key_and_cursor(http_mocker):
    old = [{"callId": 1337486, "timeStart": "2024-01-03 08:00:00", "state": "720/200"},
           {"callId": 1337487, "timeStart": None}]
    http_mocker.get(HttpRequest(url(0)), HttpResponse(envelope(old, 1)))
    records = [r.record.data for r in sync().records]
    assert [(r["record_id"], r["call_datetime"]) for r in records] == [
        ("1337486", "2024-01-03 08:00:00"),
        ("1337487", "2024-01-01 00:00:00"),  # no time from the API: the window's start
    ]

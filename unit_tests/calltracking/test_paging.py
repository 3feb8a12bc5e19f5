"""ckct.ru paging and record shapes, with the CDK's HttpMocker (no server).

ckct.ru's whole request is in the query string, without keys (`?json/v3/{key}/call/get/{page}/{from}/{to}`).
HttpMocker compares query strings as `parse_qs` reads them, which keeps key=value pairs only, so to
it every page of every window is the same request. Each test therefore mocks one request and answers
the pages with a list of responses, in order, and `assert_number_of_calls` says how many pages were
asked for (past the end of the list HttpMocker would repeat the last response). The decorator checks
that every response of the list was asked for. Which page number each request carries is checked
against the emulator, which reads it: integration_tests/calltracking/test_paging.py.
"""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.calltracking.builders import a_bare_array, a_config, a_page_request, an_envelope, an_error, an_old_call, calls
from unit_tests.helpers import read_stream

STREAM = "calltracking_calls"


class TestPaging(TestCase):
    @HttpMocker()
    def test_envelope_paging_stops_at_of_pages_without_an_extra_request(self, http_mocker: HttpMocker):
        pages = a_page_request(0)
        http_mocker.get(
            pages,
            [
                an_envelope(calls(0, 1000), of_pages=2, total_length=2000),
                an_envelope(calls(1000, 1000), of_pages=2, total_length=2000, page=1),
            ],
        )
        output = read_stream(a_config(), STREAM)
        assert [r.record.data["record_id"] for r in output.records] == [str(i) for i in range(2000)]
        assert not output.errors
        http_mocker.assert_number_of_calls(pages, 2)

    @HttpMocker()
    def test_bare_array_paging_stops_on_incorrect_page(self, http_mocker: HttpMocker):
        pages = a_page_request(0)
        http_mocker.get(pages, [a_bare_array(calls(0, 1000)), an_error("Incorrect page is set")])
        output = read_stream(a_config(), STREAM)
        assert len(output.records) == 1000
        first = output.records[0].record.data
        assert (first["record_id"], first["call_datetime"], first["serviceType"], first["duration"]) == (
            "0",
            "2024-01-05 10:00:00",
            "calltracking",
            152,
        )  # the document's sample call, passed on as sent
        assert not output.errors
        http_mocker.assert_number_of_calls(pages, 2)


class TestRecordShapes(TestCase):
    @HttpMocker()
    def test_old_record_shape_gets_its_key_and_cursor(self, http_mocker: HttpMocker):
        old = [an_old_call(1337486, "2024-01-03 08:00:00"), an_old_call(1337487, None)]
        page = a_page_request(0)
        http_mocker.get(page, an_envelope(old, of_pages=1, total_length=2))
        records = [r.record.data for r in read_stream(a_config(), STREAM).records]
        assert [(r["record_id"], r["call_datetime"]) for r in records] == [
            ("1337486", "2024-01-03 08:00:00"),
            ("1337487", "2024-01-01 00:00:00"),  # no time from the API: the window's start
        ]
        assert [(r["state"], r["campaignId"], r["officeName"]) for r in records] == [("720/200", 559, "Тестовый")] * 2
        http_mocker.assert_number_of_calls(page, 1)

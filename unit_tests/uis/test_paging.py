"""UIS get.calls_report (uis_calls) with the CDK's HttpMocker (no server): a window is read page by
page, each page asked for at the offset of the rows sent so far, until `metadata.total_items`; each
request is the JSON-RPC body with every documented field, the window in the account's zone
(`get.account`), a second wider at each end."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.helpers import read_stream
from unit_tests.uis.builders import a_config, a_page, a_report_request, a_row, an_account, an_account_request

STREAM, METHOD = "uis_calls", "get.calls_report"
# 2024-01-01T00:00:00Z .. 2024-01-10T23:59:59Z in Moscow (UTC+3), a second wider at each end.
WINDOW = ("2024-01-01 02:59:59", "2024-01-11 03:00:00")


class TestCallsReportPaging(TestCase):
    @HttpMocker()
    def test_pages_follow_the_offset_of_the_rows_sent_and_stop_at_total_items(self, http_mocker: HttpMocker):
        # The server's page is shorter than the `limit` asked for: the next page starts where it ended.
        zone = an_account_request()
        http_mocker.post(zone, an_account("Europe/Moscow"))
        first = a_report_request(METHOD, *WINDOW, offset=0)
        second = a_report_request(METHOD, *WINDOW, offset=2)
        http_mocker.post(first, a_page([a_row(1, "2024-01-02 10:00:00"), a_row(2, "2024-01-03 10:00:00")], total_items=3))
        http_mocker.post(second, a_page([a_row(3, "2024-01-09 10:00:00", talk_duration=12)], total_items=3))

        output = read_stream(a_config(), STREAM)

        assert not output.errors
        assert [(r.record.data["id"], r.record.data["start_time"]) for r in output.records] == [
            (1, "2024-01-02 10:00:00"),
            (2, "2024-01-03 10:00:00"),
            (3, "2024-01-09 10:00:00"),
        ]
        assert [r.record.data["talk_duration"] for r in output.records] == [57, 57, 12]  # the template's, then this row's
        assert {(r.record.data["finish_reason"], r.record.data["direction"]) for r in output.records} == {
            ("success_finish", "in")
        }
        assert [
            (r.record.data["event_time_utc"], r.record.data.get("user_id")) for r in output.records
        ] == [  # (HttpMocker reads drop nulls)
            ("2024-01-02T07:00:00Z", None),
            ("2024-01-03T07:00:00Z", None),
            ("2024-01-09T07:00:00Z", None),
        ]
        assert "UIS: stream uis_calls, window 2024-01-01 00:00:00 to 2024-01-10 23:59:59 UTC: 3 rows, API total 3." in [
            m.log.message for m in output.logs
        ]
        http_mocker.assert_number_of_calls(first, 1)
        http_mocker.assert_number_of_calls(second, 1)  # and no third request: total_items said the window was done
        http_mocker.assert_number_of_calls(zone, 1)  # the zone is asked once

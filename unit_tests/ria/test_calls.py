"""RIA.com calls_stat (ria_calls) with the CDK's HttpMocker (no server): a period within one window is
one request of whole days, and the bare array it answers is the records."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.helpers import read_stream
from unit_tests.ria.builders import a_bare_array, a_call, a_calls_stat_request, a_config

STREAM = "ria_calls"


class TestCallsStat(TestCase):
    @HttpMocker()
    def test_one_window_is_one_request_of_whole_days_and_its_bare_array_the_records(self, http_mocker: HttpMocker):
        window = a_calls_stat_request("2024-01-01", "2024-01-10")
        http_mocker.get(window, a_bare_array([
            a_call(22300001, "2024-01-01T00:00:05", "ANSWER", duration=41),
            a_call(22300002, "2024-01-10T23:59:00", "NOANSWER", duration="12"),  # a number sent as text
        ]))

        output = read_stream(a_config(), STREAM)

        assert not output.errors
        assert [(r.record.data["call_id"], r.record.data["date"], r.record.data["status"], r.record.data["duration"])
                for r in output.records] == [
            (22300001, "2024-01-01T00:00:05", "ANSWER", 41),
            (22300002, "2024-01-10T23:59:00", "NOANSWER", 12),
        ]
        # The rest of each call is the document's first sample call, as sent.
        assert [(r.record.data["marka"], r.record.data["model_id"], r.record.data["waighting"]) for r in output.records] == [
            ("Acura", 955, 11)] * 2
        http_mocker.assert_number_of_calls(window, 1)

    @HttpMocker()
    def test_a_start_and_end_with_a_time_still_ask_for_whole_days(self, http_mocker: HttpMocker):
        window = a_calls_stat_request("2024-01-03", "2024-01-04")
        http_mocker.get(window, a_bare_array([a_call(22300003, "2024-01-03T08:00:00")]))
        config = {**a_config(), "start_date": "2024-01-03T15:00:00Z", "end_date": "2024-01-04T08:00:00Z"}

        output = read_stream(config, STREAM)

        assert not output.errors
        assert [r.record.data["call_id"] for r in output.records] == [22300003]
        http_mocker.assert_number_of_calls(window, 1)

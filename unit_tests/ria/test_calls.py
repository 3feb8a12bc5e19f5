"""RIA.com calls_stat (ria_calls) with the CDK's HttpMocker (no server): a window of UTC instants is one
request of the Kyiv days it touches, a day wider at each end; the bare array it answers is the records,
of which those of the window itself are kept, by `event_time_utc` (`date` read in Kyiv time)."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.helpers import read_stream
from unit_tests.ria.builders import a_bare_array, a_call, a_calls_stat_request, a_config

STREAM = "ria_calls"


class TestCallsStat(TestCase):
    @HttpMocker()
    def test_one_window_is_one_request_of_its_kyiv_days_and_a_day_more_at_each_end(self, http_mocker: HttpMocker):
        # 2024-01-01T00:00:00Z .. 2024-01-10T23:59:59Z is 02:00 on 1 January to 01:59:59 on 11 January in Kyiv (UTC+2).
        window = a_calls_stat_request("2023-12-31", "2024-01-12")
        http_mocker.get(
            window,
            a_bare_array(
                [
                    a_call(22300000, "2024-01-01T01:59:59", "ANSWER"),  # 23:59:59Z on 31 December: before start_date
                    a_call(22300001, "2024-01-01T02:00:05", "ANSWER", duration=41),
                    a_call(22300002, "2024-01-11T01:59:00", "NOANSWER", duration="12"),  # a number sent as text
                    a_call(22300003, "2024-01-11T02:00:00", "ANSWER"),  # 00:00:00Z on 11 January: after end_date
                ]
            ),
        )

        output = read_stream(a_config(), STREAM)

        assert not output.errors
        assert [
            (r.record.data["call_id"], r.record.data["date"], r.record.data["event_time_utc"], r.record.data["duration"])
            for r in output.records
        ] == [
            (22300001, "2024-01-01T02:00:05", "2024-01-01T00:00:05Z", 41),
            (22300002, "2024-01-11T01:59:00", "2024-01-10T23:59:00Z", 12),
        ]
        # The rest of each call is the document's first sample call, as sent.
        assert [(r.record.data["marka"], r.record.data["model_id"], r.record.data["waighting"]) for r in output.records] == [
            ("Acura", 955, 11)
        ] * 2
        http_mocker.assert_number_of_calls(window, 1)

    @HttpMocker()
    def test_a_start_and_end_with_a_time_are_the_instants_they_say(self, http_mocker: HttpMocker):
        # 15:00Z on 3 January is 17:00 in Kyiv, 08:00Z on 4 January is 10:00.
        window = a_calls_stat_request("2024-01-02", "2024-01-05")
        http_mocker.get(
            window,
            a_bare_array(
                [
                    a_call(22300010, "2024-01-03T16:59:59"),
                    a_call(22300011, "2024-01-03T17:00:00"),
                    a_call(22300012, "2024-01-04T10:00:00"),
                    a_call(22300013, "2024-01-04T10:00:01"),
                ]
            ),
        )
        config = {**a_config(), "start_date": "2024-01-03T15:00:00Z", "end_date": "2024-01-04T08:00:00Z"}

        output = read_stream(config, STREAM)

        assert not output.errors
        assert [r.record.data["call_id"] for r in output.records] == [22300011, 22300012]
        http_mocker.assert_number_of_calls(window, 1)

    @HttpMocker()
    def test_across_the_kyiv_daylight_saving_change_the_offset_follows_the_date(self, http_mocker: HttpMocker):
        # Kyiv went from UTC+2 to UTC+3 at 03:00 on 31 March 2024.
        window = a_calls_stat_request("2024-03-29", "2024-04-02")
        http_mocker.get(window, a_bare_array([a_call(22300020, "2024-03-31T02:59:59"), a_call(22300021, "2024-03-31T04:00:00")]))
        config = {**a_config(), "start_date": "2024-03-30", "end_date": "2024-03-31"}

        output = read_stream(config, STREAM)

        assert [r.record.data["event_time_utc"] for r in output.records] == ["2024-03-31T00:59:59Z", "2024-03-31T01:00:00Z"]
        http_mocker.assert_number_of_calls(window, 1)

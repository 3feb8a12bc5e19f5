"""CallKeeper REST API getCallsInfo (callkeeper_calls) with the CDK's HttpMocker (no server): each date
window is one request, its bounds a second wider at each end as wall-clock times in `time_zone`, and
the records are the calls of the window itself, with their status decoded."""

from unittest import TestCase

from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.callkeeper.builders import a_call, a_config, a_result, a_window_request
from unit_tests.helpers import read_stream

STREAM = "callkeeper_calls"


class TestCallsInfoWindows(TestCase):
    @HttpMocker()
    def test_each_window_is_asked_a_second_wider_in_the_time_zone_and_keeps_its_own_calls(self, http_mocker: HttpMocker):
        # Two windows of 5 days (UTC): 01-01 00:00:00 .. 01-05 23:59:59 and 01-06 00:00:00 .. 01-10 23:59:59,
        # asked from the second before to the second after, at Moscow's UTC+3.
        first = a_window_request("getCallsInfo", "2024-01-01T02:59:59", "2024-01-06T03:00:00", "Europe/Moscow")
        second = a_window_request("getCallsInfo", "2024-01-06T02:59:59", "2024-01-11T03:00:00", "Europe/Moscow")
        before = a_call(10, "2023-12-31 23:59:59")  # the second before the start: asked for, not kept
        boundary = a_call(13, "2024-01-06 00:00:00", (200, 487))  # in both answers, the second window's
        http_mocker.get(first, a_result([before, a_call(11, "2024-01-01 00:00:00"), a_call(12, "2024-01-05 23:59:59"), boundary]))
        http_mocker.get(second, a_result([boundary, a_call(14, "2024-01-10 23:59:59", (811, 0))]))

        output = read_stream(a_config(window_days=5, time_zone="Europe/Moscow"), STREAM)

        assert not output.errors
        records = sorted((r.record.data for r in output.records), key=lambda record: record["id"])
        assert [(r["id"], r["date"], r["status_title"]) for r in records] == [
            (11, "2024-01-01 00:00:00", "Звонок прошел успешно"),
            (12, "2024-01-05 23:59:59", "Звонок прошел успешно"),
            (13, "2024-01-06 00:00:00", "Клиент не взял трубку"),
            (14, "2024-01-10 23:59:59", "Недостаточно минут на балансе"),
        ]
        http_mocker.assert_number_of_calls(first, 1)
        http_mocker.assert_number_of_calls(second, 1)

    @HttpMocker()
    def test_without_a_time_zone_the_window_is_asked_in_utc(self, http_mocker: HttpMocker):
        window = a_window_request("getCallsInfo", "2023-12-31T23:59:59", "2024-01-11T00:00:00", "UTC")
        http_mocker.get(window, a_result([a_call(21, "2024-01-02 10:00:00"), a_call(22, "2024-01-09 18:30:00", (200, 487))]))

        output = read_stream(a_config(window_days=31), STREAM)

        assert not output.errors
        assert sorted((r.record.data["id"], r.record.data["status_description"]) for r in output.records) == [
            (21, "Успешный звонок. Всё прошло хорошо"),
            (22, "Клиент не взял трубку"),
        ]
        # The rest of each call is the template's, as sent: the document's widget hash, a nested visit.
        assert [
            (r.record.data["widget_hash"], r.record.data["duration2_sec"], r.record.data["session"]["pgs"])
            for r in output.records
        ] == [("2ec6af2bd04f89a2620016a675224c7a", 57, 3)] * 2
        http_mocker.assert_number_of_calls(window, 1)

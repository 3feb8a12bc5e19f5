"""The benchmark's raw loop keeps the records a sync keeps: of the period, by their time in the API's
zone (UIS: the account's, from `get.account`; RIA.com: Kyiv time), never `get.account`'s answer; and
the fewest requests count UIS's `get.account` once per account."""

import base64
import json

import pytest

from benchmarks.minimum import directory_requests
from benchmarks.raw_loop import Period, account_zone, uis_call, utc_instant

SINCE, UNTIL = utc_instant("2024-01-01T00:00:00Z"), utc_instant("2024-04-30T23:59:59Z")


def test_uis_rows_are_kept_by_their_time_in_the_account_zone():
    period = Period("uis", SINCE, UNTIL, "Europe/Moscow")  # UTC+3
    kept = [
        period.keeps({"start_time": t})
        for t in ("2024-01-01 02:59:59", "2024-01-01 03:00:00", "2024-05-01 02:59:59", "2024-05-01 03:00:00")
    ]
    assert kept == [False, True, True, False]
    assert not period.keeps({"start_time": None}) and not period.keeps("not a row")


def test_ria_calls_are_kept_by_their_kyiv_time_across_daylight_saving():
    period = Period("ria", SINCE, UNTIL, "Europe/Kyiv")  # EET (+2) in January, EEST (+3) from 31 March
    kept = [
        period.keeps({"date": t})
        for t in ("2024-01-01T01:59:59", "2024-01-01T02:00:00", "2024-05-01T02:59:59", "2024-05-01T03:00:00")
    ]
    assert kept == [False, True, True, False]


def test_the_zone_and_client_of_a_get_account_request():
    answer = {"result": {"data": [{"app_id": 1, "name": "x", "timezone": "Asia/Yekaterinburg"}]}}
    assert account_zone(answer) == "Asia/Yekaterinburg"
    assert account_zone({"error": {"code": -32001}}) is None
    body = base64.b64encode(json.dumps({"method": "get.account", "params": {"access_token": "t", "user_id": 7}}).encode())
    assert uis_call({"body": body.decode()}) == ("get.account", 7)
    assert uis_call({"body": None}) == (None, None)


def test_uis_needs_one_get_account_per_account_read():
    assert directory_requests("uis", {"uis": {"access_token": "t"}}) == 1
    assert directory_requests("uis", {"uis": {"access_token": "t", "user_id": 5}}) == 1
    assert directory_requests("uis", {"uis": {"access_token": "t", "user_ids": [5, 6, 9]}}) == 3
    assert directory_requests("ria", {"ria": {}}) == directory_requests("callkeeper", {}) == 0
    with pytest.raises(ValueError):
        directory_requests("uis", {"uis": {"user_ids": "all"}})

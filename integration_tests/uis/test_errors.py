"""UIS errors: limit_exceeded and internal_error are retried; a rejected request is a system error that
names its mnemonic and field, a bad token a config error; get.account (the account's zone, asked
before the first report) failing for good or missing from the host; the emulator refuses what the
API refuses."""

import datetime as dt
import sys
import time

import pytest

from integration_tests.uis.helpers import account_calls, bodies, method_of, uis, uis_config
from testkit.connector import error_messages, records_by_stream, run_read
from testkit.emulator.faults import Fault
from testkit.emulator.server import Response
from testkit.emulator.world import END_DATE, START_DATE, UIS_ACCESS_TOKEN


def test_limit_exceeded_and_internal_error_are_retried(emulator):
    vendor = uis(emulator)
    vendor.inject("internal_error", times=1, method="get.goals_report")  # first: the exponential backoff starts short
    vendor.inject("limit_exceeded", times=1, minute_reset=0, method="get.goals_report")
    output = run_read(uis_config(emulator, end_date="2024-02-29"), ["uis_goals"])
    assert not output.errors, error_messages(output)
    assert sorted(r.record.data["id"] for r in output.records) == vendor.ids(
        "get.goals_report", START_DATE, "2024-02-29T23:59:59"
    )
    assert vendor.errors_sent == ["internal_error", "limit_exceeded"]
    assert len(bodies(emulator, "get.goals_report")) == 1 + 2  # one window, two refusals


@pytest.mark.parametrize(
    "mnemonic, field, expected",
    [
        (
            "date_interval_limit_reached",
            "date_till",
            "UIS: the API rejected the request to get.calls_report (date_interval_limit_reached, field date_till: Wrong period).",
        ),
        (
            "invalid_parameter_value",
            "fields",
            "UIS: the API rejected the request to get.calls_report (invalid_parameter_value, field fields: Wrong period).",
        ),
        ("method_not_found", None, "UIS: the API rejected the request to get.calls_report (method_not_found: Wrong period)."),
    ],
)
def test_a_rejected_request_is_a_system_error_with_mnemonic_and_field(emulator, mnemonic, field, expected):
    uis(emulator).inject(mnemonic, times=-1, field=field, message="Wrong period", method="get.calls_report")
    output = run_read(uis_config(emulator), ["uis_calls"])
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    assert stream_error.message == expected
    assert stream_error.failure_type.value == final.failure_type.value == "system_error"
    assert final.message == f"The sync did not finish. {expected[:-1]} (stream uis_calls)."


def test_get_account_answered_429_waits_the_retry_after_the_server_sends(emulator, monkeypatch):
    """get.account's own retry loop obeys `Retry-After` as the streams' requesters do (before, it
    waited its exponential backoff, here 0.1 s then 0.2 s, and asked again too early)."""
    from source_calltracking.components import uis_directory

    waits, real_sleep = [], time.sleep

    def sleep(seconds):  # record the directory's retry waits only; every other sleep stays real
        (waits.append if sys._getframe(1).f_code is uis_directory.UisDirectory._call.__code__ else real_sleep)(seconds)

    monkeypatch.setattr(uis_directory.time, "sleep", sleep)
    emulator.faults.add(
        Fault(
            "uis",
            "response",
            times=2,
            match=lambda request: method_of(request) == "get.account",
            response=Response(429, b"{}", headers={"Retry-After": "3"}),
        )
    )
    output = run_read(uis_config(emulator, end_date="2024-02-29", retry_backoff_seconds=0.1), ["uis_goals"])
    assert not output.errors, error_messages(output)
    assert waits == [3.0, 3.0], waits
    assert len([r for r in emulator.requests_to("uis") if method_of(r) == "get.account"]) == 3
    assert sorted(r.record.data["id"] for r in output.records) == uis(emulator).ids(
        "get.goals_report", START_DATE, "2024-02-29T23:59:59"
    )


def test_get_account_failing_on_every_attempt_is_a_transient_error_that_names_it(emulator):
    """A transport fault on get.account that outlasts its retries: the sync stops before any report,
    with a transient error that names UIS and get.account (not a time-zone setting to change)."""
    emulator.faults.add(
        Fault(
            "uis",
            "response",
            times=-1,
            match=lambda request: method_of(request) == "get.account",
            response=Response(500, b"Internal Server Error", "text/plain"),
        )
    )
    output = run_read(uis_config(emulator, retry_backoff_seconds=0.1), ["uis_calls", "uis_goals"])
    expected = "UIS: get.account did not answer after 5 attempts (last: HTTP 500). Sync again later."
    stream_errors = [e.trace.error for e in output.errors if e.trace.error.stream_descriptor]
    assert {e.message for e in stream_errors} == {expected}, error_messages(output)
    final = output.errors[-1].trace.error
    assert final.failure_type.value == "transient_error"
    assert final.message.startswith(f"The sync did not finish. {expected[:-1]}")
    assert "time zone" not in final.message and "uis.time_zone" not in final.message
    assert (
        len([r for r in emulator.requests_to("uis") if method_of(r) == "get.account"]) == 5
    )  # its own retries, once per sync: the second stream did not ask again
    assert not records_by_stream(output) and not bodies(emulator, "get.calls_report") and not bodies(emulator, "get.goals_report")


def test_get_account_unknown_to_the_host_is_a_config_error_that_says_to_set_the_zone(emulator):
    uis(emulator).inject("method_not_found", times=-1, method="get.account", message="Method get.account not found")
    output = run_read(uis_config(emulator), ["uis_calls"])
    final = output.errors[-1].trace.error
    assert final.failure_type.value == "config_error"
    assert final.message.startswith(
        "The sync did not finish. UIS: the API did not tell the account's time zone (get.account answered method_not_found), "
        "in which it reads date_from/date_till and writes report times. Set uis.time_zone to the account's zone"
    )
    assert not records_by_stream(output) and len(account_calls(emulator)) == 1  # not retried


def test_get_account_unknown_to_the_host_falls_back_to_uis_time_zone(emulator):
    vendor = uis(emulator)
    vendor.inject("method_not_found", times=-1, method="get.account", message="Method get.account not found")
    config = uis_config(emulator)
    config["uis"]["time_zone"] = vendor.time_zone()  # the user set the account's zone
    output = run_read(config, ["uis_calls"])
    assert not output.errors, error_messages(output)
    got = {r["id"]: r["event_time_utc"] for r in records_by_stream(output)["uis_calls"]}
    after_end = (dt.date.fromisoformat(END_DATE) + dt.timedelta(days=1)).isoformat()
    assert got == vendor.expected("get.calls_report", START_DATE, after_end)  # every row, at its true UTC instant
    assert len(account_calls(emulator)) == 1


def test_a_bad_token_during_read_is_a_config_error(emulator):
    config = uis_config(emulator)
    config["uis"]["access_token"] = "notatoken0000000000000000000000000000000"
    output = run_read(config, ["uis_calls", "uis_chat_messages"])
    final = output.errors[-1].trace.error
    assert final.failure_type.value == "config_error"
    assert final.message.startswith("The sync did not finish. UIS: the access token is invalid (access_token_invalid).")
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def test_the_emulator_refuses_what_the_api_refuses(emulator):
    """The emulator is strict, so the connector's requests are checked: offset cap, field names, 3 months."""
    import requests

    def ask(**params):
        body = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "get.calls_report",
            "params": {
                "access_token": UIS_ACCESS_TOKEN,
                "date_from": "2024-01-01 00:00:00",
                "date_till": "2024-03-31 23:59:59",
                **params,
            },
        }
        return requests.post(emulator.url("uis") + "/v2.0", json=body).json()["error"]["data"]

    assert (ask(offset=100_010)["mnemonic"], ask(offset=100_010)["field"]) == ("invalid_parameter_value", "offset")
    assert (ask(limit=10_001)["mnemonic"], ask(limit=10_001)["field"]) == ("invalid_parameter_value", "limit")
    assert (ask(fields=["tag_id"])["mnemonic"], ask(fields=["tag_id"])["field"]) == ("invalid_parameter_value", "fields")
    assert ask(date_till="2024-04-01 00:00:01")["mnemonic"] == "date_interval_limit_reached"
    assert ask(sort=[], extra=1)["mnemonic"] == "unexpected_parameters"
    error = ask(offset=100_010)
    assert error["metadata"]["limits"]["day_remaining"] > 0 and "access_token" not in error["params"]

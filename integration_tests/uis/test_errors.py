"""UIS errors: limit_exceeded and internal_error are retried; a rejected request is a system error that
names its mnemonic and field, a bad token a config error; the emulator refuses what the API refuses."""

import pytest

from integration_tests.uis.helpers import bodies, uis, uis_config
from testkit.connector import error_messages, run_read
from testkit.emulator.world import START_DATE, UIS_ACCESS_TOKEN


def test_limit_exceeded_and_internal_error_are_retried(emulator):
    vendor = uis(emulator)
    vendor.inject("internal_error", times=1)  # first: the exponential backoff starts short
    vendor.inject("limit_exceeded", times=1, minute_reset=0)
    output = run_read(uis_config(emulator, end_date="2024-02-29"), ["uis_goals"])
    assert not output.errors, error_messages(output)
    assert sorted(r.record.data["id"] for r in output.records) == vendor.ids("get.goals_report", START_DATE, "2024-02-29T23:59:59")
    assert vendor.errors_sent == ["internal_error", "limit_exceeded"]
    assert len(bodies(emulator, "get.goals_report")) == 1 + 2  # one window, two refusals


@pytest.mark.parametrize("mnemonic, field, expected", [
    ("date_interval_limit_reached", "date_till",
     "UIS: the API rejected the request to get.calls_report (date_interval_limit_reached, field date_till: Wrong period)."),
    ("invalid_parameter_value", "fields",
     "UIS: the API rejected the request to get.calls_report (invalid_parameter_value, field fields: Wrong period)."),
    ("method_not_found", None, "UIS: the API rejected the request to get.calls_report (method_not_found: Wrong period)."),
])
def test_a_rejected_request_is_a_system_error_with_mnemonic_and_field(emulator, mnemonic, field, expected):
    uis(emulator).inject(mnemonic, times=-1, field=field, message="Wrong period")
    output = run_read(uis_config(emulator), ["uis_calls"])
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    assert stream_error.message == expected
    assert stream_error.failure_type.value == final.failure_type.value == "system_error"
    assert final.message == f"The sync did not finish. {expected[:-1]} (stream uis_calls)."


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
        body = {"jsonrpc": "2.0", "id": 7, "method": "get.calls_report",
                "params": {"access_token": UIS_ACCESS_TOKEN, "date_from": "2024-01-01 00:00:00",
                           "date_till": "2024-03-31 23:59:59", **params}}
        return requests.post(emulator.url("uis") + "/v2.0", json=body).json()["error"]["data"]

    assert (ask(offset=100_010)["mnemonic"], ask(offset=100_010)["field"]) == ("invalid_parameter_value", "offset")
    assert (ask(limit=10_001)["mnemonic"], ask(limit=10_001)["field"]) == ("invalid_parameter_value", "limit")
    assert (ask(fields=["tag_id"])["mnemonic"], ask(fields=["tag_id"])["field"]) == ("invalid_parameter_value", "fields")
    assert ask(date_till="2024-04-01 00:00:01")["mnemonic"] == "date_interval_limit_reached"
    assert ask(sort=[], extra=1)["mnemonic"] == "unexpected_parameters"
    error = ask(offset=100_010)
    assert error["metadata"]["limits"]["day_remaining"] > 0 and "access_token" not in error["params"]

"""RIA.com calls_stat against its emulator: check (one request on one day), discover and spec."""

from airbyte_cdk.models import Status

from integration_tests.ria.helpers import QUOTA_MESSAGE, STREAM, params_of, ria_config, vendor
from testkit.connector import connection_status, run_check, run_discover
from testkit.emulator.world import RIA_API_KEY, RIA_USER_ID


def test_check_spends_one_request_on_one_day(emulator):
    status = connection_status(run_check(ria_config(emulator)))
    assert status.status == Status.SUCCEEDED
    requests = emulator.requests_to("ria")
    assert len(requests) == 1
    # One day of UTC instants (window_days 1): the Kyiv days it touches, one more at each end.
    assert params_of(requests[0]) == {"user_id": RIA_USER_ID, "from": "2023-12-31", "to": "2024-01-03", "api_key": RIA_API_KEY}


def test_check_with_a_bad_key_names_the_provider_and_the_code(emulator):
    status = connection_status(run_check(ria_config(emulator, api_key="wrongkey0123456789")))
    assert status.status == Status.FAILED
    assert status.message == (
        "RIA.com: the API key was not accepted (API_KEY_INVALID: An invalid api_key was supplied. "
        "Get one at https://developers.ria.com). Check ria.api_key."
    )


def test_check_on_a_used_up_quota_fails_at_once_with_the_quota_message(emulator):
    vendor(emulator).hourly_limit = 0
    status = connection_status(run_check(ria_config(emulator, rate_limit_wait_seconds=30)))
    assert status.status == Status.FAILED
    assert status.message == QUOTA_MESSAGE.format(after="")
    assert len(emulator.requests_to("ria")) == 1


def test_discover_declares_key_cursor_and_modes(emulator):
    streams = {s.name: s for s in run_discover(ria_config(emulator)).catalog.catalog.streams}
    assert set(streams) == {STREAM}
    assert streams[STREAM].source_defined_primary_key == [["call_id"]]
    assert streams[STREAM].default_cursor_field == ["event_time_utc"]
    assert {m.value for m in streams[STREAM].supported_sync_modes} == {"full_refresh", "incremental"}


def test_spec_marks_the_keys_secret_and_documents_the_blocks():
    import logging

    from source_calltracking import SourceCalltracking

    spec = SourceCalltracking().spec(logging.getLogger("test")).connectionSpecification["properties"]
    for block in ("callkeeper", "ria"):
        assert spec[block]["properties"]["api_key"]["airbyte_secret"] is True
    for block in ("callkeeper_calltracking", "callkeeper", "ria"):  # the keys, or a list of accounts with their keys
        assert "required" not in spec[block]
        account = spec[block]["properties"]["accounts"]["items"]
        assert account["properties"]["api_key"]["airbyte_secret"] is True and "name" in account["required"]
    assert spec["ria"]["properties"]["accounts"]["items"]["required"] == ["name", "api_key", "user_id"]
    assert (
        spec["callkeeper_calltracking"]["properties"]["accounts"]["items"]["properties"]["role_api_key"]["airbyte_secret"] is True
    )
    assert spec["ria"]["properties"]["time_zone"]["default"] == "Europe/Kyiv"
    assert spec["ria"]["properties"]["window_days"]["default"] == 31
    assert spec["ria"]["properties"]["rate_limit_retries"]["default"] == 6
    assert spec["callkeeper"]["properties"]["window_days"]["default"] == 7
    assert spec["callkeeper"]["properties"]["statuses"]["items"]["pattern"] == "^[0-9]+/[0-9]+$"

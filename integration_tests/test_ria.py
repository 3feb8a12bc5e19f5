"""RIA.com calls_stat against its emulator: one request per window, whole days, quota, errors, state."""

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs

import jsonschema
import pytest
from airbyte_cdk.models import Status, SyncMode

from testkit.emulator.faults import Fault
from testkit.emulator.ria import error_response
from testkit.emulator.world import RIA_API_KEY, RIA_USER_ID, world_config
from testkit.connector import (
    connection_status,
    error_messages,
    final_state,
    records_by_stream,
    run_check,
    run_discover,
    run_read,
    state_for,
)

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "ria_calls.json"
STREAM = "ria_calls"
QUOTA_MESSAGE = (
    "RIA.com: the API quota for this key is used up (OVER_RATE_LIMIT){after}. Run the sync again later (the quota is "
    "about 30 requests an hour per key); the calls read so far are kept in the state, and a larger ria.window_days "
    "spends fewer requests."
)


def vendor(emulator):
    return emulator.vendors["ria"]


def ria_config(emulator, **block):
    config = world_config(emulator, ["ria"])
    config["ria"].update(block)
    return config


def params_of(request):
    return {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


def windows(emulator, status=200):
    return sorted((params_of(r)["from"], params_of(r)["to"]) for r in emulator.requests_to("ria") if r.status == status)


def ids(output):
    return sorted(r.record.data["call_id"] for r in output.records)


def assert_days_meet(spans, first_day, last_day):
    """Windows cover [first_day, last_day] day by day: no overlap, no gap."""
    assert spans[0][0] == first_day and spans[-1][1] == last_day
    for (_, previous_end), (next_start, _) in zip(spans, spans[1:]):
        assert dt.date.fromisoformat(next_start) == dt.date.fromisoformat(previous_end) + dt.timedelta(days=1)
    for start, end in spans:
        assert start <= end


# ---- check and discover ----------------------------------------------------------------------


def test_check_spends_one_request_on_one_day(emulator):
    status = connection_status(run_check(ria_config(emulator)))
    assert status.status == Status.SUCCEEDED
    requests = emulator.requests_to("ria")
    assert len(requests) == 1
    assert params_of(requests[0]) == {"user_id": RIA_USER_ID, "from": "2024-01-01", "to": "2024-01-01", "api_key": RIA_API_KEY}


def test_check_with_a_bad_key_names_the_provider_and_the_code(emulator):
    status = connection_status(run_check(ria_config(emulator, api_key="wrongkey0123456789")))
    assert status.status == Status.FAILED
    assert status.message == ("RIA.com: the API key was not accepted (API_KEY_INVALID: An invalid api_key was supplied. "
                              "Get one at https://developers.ria.com). Check ria.api_key.")


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
    assert streams[STREAM].default_cursor_field == ["date"]
    assert {m.value for m in streams[STREAM].supported_sync_modes} == {"full_refresh", "incremental"}


# ---- reading -----------------------------------------------------------------------------------


def test_a_sync_spends_exactly_one_request_per_month_window(emulator):
    output = run_read(ria_config(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = ids(output)
    assert got == vendor(emulator).call_ids("2024-01-01", "2024-04-30") and len(got) == 1200
    assert windows(emulator) == [("2024-01-01", "2024-01-31"), ("2024-02-01", "2024-03-02"),
                                 ("2024-03-03", "2024-04-02"), ("2024-04-03", "2024-04-30")]
    assert len(emulator.requests_to("ria")) == 4
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    for record in records_by_stream(output)[STREAM]:
        validator.validate(record)
    statuses = {r.record.data["status"] for r in output.records}
    assert {"ANSWER", "NOANSWER", "CANCEL", "BUSY", "BYSY", "FAILED", "CONGESTION"} == statuses


@pytest.mark.parametrize("window_days,requests", [(10, 13), (1, 20)])
def test_windows_of_any_length_meet_day_to_day_without_duplicates(emulator, window_days, requests):
    config = ria_config(emulator, window_days=window_days)
    config["end_date"] = "2024-04-30" if window_days > 1 else "2024-01-20"
    output = run_read(config, [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    assert len(emulator.requests_to("ria")) == requests
    assert_days_meet(windows(emulator), "2024-01-01", config["end_date"])
    got = ids(output)
    assert got == sorted(set(got)) == vendor(emulator).call_ids("2024-01-01", config["end_date"])


def test_a_start_date_with_a_time_still_reads_whole_days(emulator):
    config = ria_config(emulator)
    config.update(start_date="2024-02-10T15:00:00Z", end_date="2024-02-20T08:00:00Z")
    run_read(config, [STREAM])
    assert windows(emulator) == [("2024-02-10", "2024-02-20")]


def test_a_period_without_calls_is_empty_not_an_error(emulator):
    config = ria_config(emulator)
    config.update(start_date="2023-01-01", end_date="2023-03-31")
    output = run_read(config, [STREAM])
    assert not output.errors
    assert output.records == []
    assert len(emulator.requests_to("ria")) == 3
    assert final_state(output, STREAM)


def test_incremental_round_trip_returns_new_calls_and_the_lookback_day(emulator):
    calls = vendor(emulator).accounts[0].calls
    config = ria_config(emulator)
    first = run_read(config, [STREAM])
    assert len(first.records) == 1200
    state = final_state(first, STREAM)
    assert state == {"date": "2024-04-30"}

    calls.count += 100  # new calls arrive (into May)
    last_day = calls.last_time.strftime("%Y-%m-%d")
    assert last_day > "2024-05-01"
    emulator.clear_log()
    config["end_date"] = "2024-05-31"
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors
    # The lookback (1 day) re-reads 29 April, at day granularity; nothing before it.
    assert ids(second) == vendor(emulator).call_ids("2024-04-29", "2024-05-31")
    assert windows(emulator) == [("2024-04-29", "2024-05-29"), ("2024-05-30", "2024-05-31")]
    assert final_state(second, STREAM) == {"date": last_day}


def test_a_user_id_of_another_account_reads_nothing(emulator):
    output = run_read(ria_config(emulator, user_id="42"), [STREAM])
    assert not output.errors
    assert output.records == []


# ---- the quota ----------------------------------------------------------------------------------


def test_over_rate_limit_is_waited_out_and_the_sync_completes(emulator):
    emulator.faults.add(Fault("ria", "response", times=2, response=lambda r: error_response("OVER_RATE_LIMIT")))
    output = run_read(ria_config(emulator, rate_limit_wait_seconds=0.01), [STREAM])
    assert not output.errors, error_messages(output)
    assert ids(output) == vendor(emulator).call_ids("2024-01-01", "2024-04-30")
    statuses = [r.status for r in emulator.requests_to("ria")]
    assert statuses.count(429) == 2 and statuses.count(200) == 4


def test_a_used_up_quota_ends_the_sync_with_a_clear_message(emulator):
    """The emulator's hourly counter allows 2 requests: 2 windows are read, then the sync stops."""
    vendor(emulator).hourly_limit = 2
    output = run_read(ria_config(emulator, rate_limit_retries=1, rate_limit_wait_seconds=0.01), [STREAM])
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    message = QUOTA_MESSAGE.format(after=" and did not recover after 1 retry")
    assert stream_error.message == message
    assert stream_error.failure_type.value == final.failure_type.value == "transient_error"
    assert final.message == f"The sync did not finish. {message.rstrip('.')} (stream {STREAM})."
    read = windows(emulator)
    assert len(read) == 2
    assert ids(output) == sorted(i for since, until in read for i in vendor(emulator).call_ids(since, until))
    # A refused request is retried once, never more.
    refused = [params_of(r)["from"] for r in emulator.requests_to("ria") if r.status == 429]
    assert refused and all(refused.count(day) <= 2 for day in refused)
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def test_the_state_of_the_windows_read_survives_a_used_up_quota(emulator):
    """Windows from March on are refused: the state keeps January and February, and the next sync resumes there."""
    emulator.faults.add(Fault("ria", "response", times=-1, response=lambda r: error_response("OVER_RATE_LIMIT"),
                              match=lambda r: params_of(r)["from"] >= "2024-03-01"))
    config = ria_config(emulator, rate_limit_retries=0)
    first = run_read(config, [STREAM])
    assert first.errors[0].trace.error.message == QUOTA_MESSAGE.format(after="")
    state = final_state(first, STREAM)
    read_until = max(r.record.data["date"] for r in first.records)
    assert state == {"date": read_until[:10]} and read_until[:10] == "2024-03-02"

    emulator.faults.clear()
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors
    assert sorted(set(ids(first)) | set(ids(second))) == vendor(emulator).call_ids("2024-01-01", "2024-04-30")
    assert final_state(second, STREAM) == {"date": "2024-04-30"}


# ---- errors --------------------------------------------------------------------------------------

KEY_HINT = "Check ria.api_key."


@pytest.mark.parametrize(
    "setup,message,failure_type",
    [
        (lambda v, c: c["ria"].update(api_key="wrongkey0123456789"),
         f"RIA.com: the API key was not accepted (API_KEY_INVALID: An invalid api_key was supplied. Get one at "
         f"https://developers.ria.com). {KEY_HINT}", "config_error"),
        (lambda v, c: v.disabled_keys.add(RIA_API_KEY),
         f"RIA.com: the API key is disabled (API_KEY_DISABLED: The api_key supplied has been disabled. Contact us at "
         f"https://developers.ria.com/contact for assistance). {KEY_HINT}", "config_error"),
        (lambda v, c: v.unverified_keys.add(RIA_API_KEY),
         f"RIA.com: the API key is not verified yet (API_KEY_UNVERIFIED: The api_key supplied has not been verified yet. "
         f"Please check your e-mail to verify the API key.). {KEY_HINT}", "config_error"),
        (lambda v, c: v.unauthorized_keys.add(RIA_API_KEY),
         f"RIA.com: the API key is not authorised for this method (API_KEY_UNAUTHORIZED: The api_key supplied is not "
         f"authorized to access the given service. Contact us at https://developers.ria.com/contact for assistance). "
         f"{KEY_HINT}", "config_error"),
        (lambda v, c: setattr(v, "https_required", True),
         "RIA.com: the API accepts only HTTPS (HTTPS_REQUIRED: Requests must be made over HTTPS. Try accessing the API at: "
         "https://developers.ria.com/auto/new/calls_stat). Use an https:// address in ria.base_url.", "config_error"),
        (lambda v, c: c["ria"].update(base_url=c["ria"]["base_url"] + "v2/"),
         "RIA.com: the API rejected the request (NOT_FOUND: The requested URL was not found on this server.).",
         "system_error"),
    ],
    ids=["API_KEY_INVALID", "API_KEY_DISABLED", "API_KEY_UNVERIFIED", "API_KEY_UNAUTHORIZED", "HTTPS_REQUIRED", "NOT_FOUND"],
)
def test_every_documented_error_ends_the_sync_with_its_code(emulator, setup, message, failure_type):
    config = ria_config(emulator)
    setup(vendor(emulator), config)
    output = run_read(config, [STREAM])
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    assert stream_error.message == message
    assert stream_error.failure_type.value == final.failure_type.value == failure_type
    assert final.message == f"The sync did not finish. {message.rstrip('.')} (stream {STREAM})."
    assert output.records == []
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def test_a_403_page_that_is_not_json_is_a_config_error_not_a_retry(emulator):
    from testkit.emulator.server import Response

    emulator.faults.add(Fault("ria", "response", times=-1, response=Response(403, b"<html>Forbidden</html>", "text/html")))
    output = run_read(ria_config(emulator), [STREAM])
    error = output.errors[0].trace.error
    assert error.message == "RIA.com: the API refused access (HTTP 403). Check ria.api_key and ria.user_id."
    assert error.failure_type.value == "config_error"
    assert len(emulator.requests_to("ria")) <= 4  # one per window at most: no retries


def test_the_key_never_appears_in_output_even_when_the_request_url_is_logged(emulator):
    """run_read scans every printed line for the key (raw and URL-encoded); make sure there was a URL to mask."""
    vendor(emulator).disabled_keys.add(RIA_API_KEY)
    output = run_read(ria_config(emulator), [STREAM])
    printed = "\n".join(str(m) for m in output._messages)
    assert "calls_stat" in printed
    assert RIA_API_KEY not in printed


def test_quota_waits_double_from_the_configured_first_wait_then_stop():
    """The defaults wait 1, 2, 4, 8, 16 and 32 minutes (63 in all: longer than the hourly quota), then end the stream."""
    import requests
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException
    from source_calltracking.components.ria import RiaQuotaBackoff

    config = {"ria": {}}
    strategy = RiaQuotaBackoff(config=config, parameters={})
    quota, server_error = requests.Response(), requests.Response()
    quota.status_code, quota._content = 429, b'{"error":{"code":"OVER_RATE_LIMIT","message":"..."}}'
    server_error.status_code = 503
    assert [strategy.backoff_time(quota, attempt) for attempt in range(1, 7)] == [60, 120, 240, 480, 960, 1920]
    assert strategy.backoff_time(server_error, 1) is None  # not a quota answer: the shared strategy decides
    with pytest.raises(AirbyteTracedException) as stop:
        strategy.backoff_time(quota, 7)
    assert stop.value.message == QUOTA_MESSAGE.format(after=" and did not recover after 6 retries")
    assert stop.value.failure_type.value == "transient_error"
    with pytest.raises(AirbyteTracedException):  # the quota is known to be gone: the other windows stop at once
        strategy.backoff_time(quota, 1)
    config["ria"]["rate_limit_wait_seconds"] = 0.5
    fresh = RiaQuotaBackoff(config=config, parameters={})
    assert fresh.backoff_time(quota, 2) == 1.0
    one = RiaQuotaBackoff(config={"ria": {"rate_limit_retries": 1}}, parameters={})
    with pytest.raises(AirbyteTracedException) as stop:
        one.backoff_time(quota, 2)
    assert stop.value.message == QUOTA_MESSAGE.format(after=" and did not recover after 1 retry")
    none = RiaQuotaBackoff(config={"ria": {"rate_limit_retries": 0}}, parameters={})
    with pytest.raises(AirbyteTracedException) as stop:
        none.backoff_time(quota, 1)
    assert stop.value.message == QUOTA_MESSAGE.format(after="")


def test_spec_marks_the_keys_secret_and_documents_the_blocks():
    from source_calltracking import SourceCalltracking
    import logging

    spec = SourceCalltracking().spec(logging.getLogger("test")).connectionSpecification["properties"]
    for block in ("callkeeper", "ria"):
        assert spec[block]["properties"]["api_key"]["airbyte_secret"] is True
    assert spec["ria"]["required"] == ["api_key", "user_id"]
    assert spec["ria"]["properties"]["window_days"]["default"] == 31
    assert spec["ria"]["properties"]["rate_limit_retries"]["default"] == 6
    assert spec["callkeeper"]["properties"]["window_days"]["default"] == 7
    assert spec["callkeeper"]["properties"]["statuses"]["items"]["pattern"] == "^[0-9]+/[0-9]+$"

"""RIA.com's hourly quota: OVER_RATE_LIMIT is waited out with doubling waits, a used-up quota ends the
sync with a clear message, and the state of the windows read survives it."""

import io

import pytest

from integration_tests.ria.helpers import (
    QUOTA_MESSAGE,
    STREAM,
    ids,
    last_call_state,
    params_of,
    request_days,
    ria_config,
    truth_of_windows,
    utc_windows,
    vendor,
    windows,
)
from testkit.connector import error_messages, final_state, run_read, state_for
from testkit.emulator.faults import Fault
from testkit.emulator.ria import error_response


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
    config = ria_config(emulator, rate_limit_retries=1, rate_limit_wait_seconds=0.01)
    output = run_read(config, [STREAM])
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    message = QUOTA_MESSAGE.format(after=" and did not recover after 1 retry")
    assert stream_error.message == message
    assert stream_error.failure_type.value == final.failure_type.value == "transient_error"
    assert final.message == f"The sync did not finish. {message.rstrip('.')} (stream {STREAM})."
    read = windows(emulator)
    assert len(read) == 2
    # Exactly the calls of the two windows answered (their own instants, not the extra days asked).
    answered = [w for w in utc_windows(config) if request_days(w) in read]
    assert len(answered) == 2
    assert ids(output) == sorted(truth_of_windows(emulator, answered))
    # A refused request is retried once, never more.
    refused = [params_of(r)["from"] for r in emulator.requests_to("ria") if r.status == 429]
    assert refused and all(refused.count(day) <= 2 for day in refused)
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def test_the_state_of_the_windows_read_survives_a_used_up_quota(emulator):
    """Windows asked from March on are refused: the state keeps the first two windows (to 2 March), and
    the next sync resumes there."""
    emulator.faults.add(
        Fault(
            "ria",
            "response",
            times=-1,
            response=lambda r: error_response("OVER_RATE_LIMIT"),
            match=lambda r: params_of(r)["from"] >= "2024-03-01",
        )
    )
    config = ria_config(emulator, rate_limit_retries=0)
    first = run_read(config, [STREAM])
    assert first.errors[0].trace.error.message == QUOTA_MESSAGE.format(after="")
    state = final_state(first, STREAM)
    spans = utc_windows(config)
    read = [w for w in spans if request_days(w)[0] < "2024-03-01"]
    assert len(read) == 2 and read[-1][1].isoformat() == "2024-03-02T23:59:59+00:00"
    assert ids(first) == sorted(truth_of_windows(emulator, read))
    assert state == last_call_state(emulator, read)
    assert state == {"event_time_utc": max(r.record.data["event_time_utc"] for r in first.records)}

    emulator.faults.clear()
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors
    assert sorted(set(ids(first)) | set(ids(second))) == vendor(emulator).call_ids("2024-01-01", "2024-04-30")
    assert final_state(second, STREAM) == last_call_state(emulator, spans)


def test_quota_waits_double_from_the_configured_first_wait_then_stop():
    """The defaults wait 1, 2, 4, 8, 16 and 32 minutes (63 in all: longer than the hourly quota), then end the stream."""
    import requests
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_calltracking.components.ria import RiaQuotaBackoff

    config = {"ria": {}}
    strategy = RiaQuotaBackoff(config=config, parameters={})
    quota, server_error = requests.Response(), requests.Response()
    quota.status_code, quota.raw = 429, io.BytesIO(b'{"error":{"code":"OVER_RATE_LIMIT","message":"..."}}')
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

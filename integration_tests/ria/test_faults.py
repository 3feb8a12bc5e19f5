"""RIA.com calls_stat under faults: every sync either completes with every call, or stops with one
clear message naming RIA.com and the cause, and a state from which the next sync (fault cleared,
quota renewed) loses nothing. Retry waits are recorded, not slept (`retry_waits`)."""

import time
from urllib.parse import parse_qs

import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.helpers import SCHEMAS, transport_faults
from integration_tests.ria.helpers import QUOTA_MESSAGE, STREAM, last_call_state, request_days, utc_windows
from testkit.connector import error_messages, final_state, records_by_stream, run_read, state_for
from testkit.emulator.faults import Fault
from testkit.emulator.ria import error_response
from testkit.emulator.server import Response
from testkit.emulator.timeline import iso_z
from testkit.emulator.world import world_config

WINDOWS = 13  # 2024-01-01 .. 2024-04-30 in windows of 10 days
QUOTA = QUOTA_MESSAGE
AFTER_RETRIES = ". It failed the same way on every retry, so the stream stopped; sync again later."


@pytest.fixture
def ria(emulator):
    vendor = emulator.vendors["ria"]
    vendor.hourly_limit = 1000  # the quota is a test of its own
    return vendor


def held(ria):
    return sorted(ria.call_ids("2024-01-01", "2024-04-30"))


def fast_config(emulator, timeout=5, **block):
    config = world_config(emulator, ["ria"], retry_backoff_seconds=0.1, request_timeout_seconds=timeout)
    config["ria"].update({"window_days": 10, "rate_limit_wait_seconds": 0.1, **block})
    return config


def ids_of(output):
    return sorted(r["call_id"] for r in records_by_stream(output).get(STREAM, []))


def requests(emulator, expected=None):
    """RIA requests; with `expected`, waits (3 s at most) for a timed-out one, logged only once answered."""
    deadline = time.monotonic() + 5
    while True:
        found = emulator.requests_to("ria")
        if expected is None or len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def window_of(request):
    return parse_qs(request.query)["from"][0]


def from_day(day):
    return lambda request: window_of(request) == day


def assert_one_clear_failure(output, message, failure_type):
    errors = [e.trace.error for e in output.errors if e.trace.error.stream_descriptor]
    assert [(e.stream_descriptor.name, e.message) for e in errors] == [(STREAM, message)], error_messages(output)
    assert errors[0].failure_type.value == failure_type
    final = output.errors[-1].trace.error
    assert final.message == f"The sync did not finish. {message.rstrip('.')} (stream {STREAM})."
    assert final.failure_type.value == failure_type
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def resume(emulator, first, config):
    """The next sync from the first one's last state, faults cleared and quota renewed; the union of ids."""
    emulator.faults.clear()
    emulator.vendors["ria"].reset_quota()
    emulator.vendors["ria"].hourly_limit = 1000
    has_state = any(m.state.stream.stream_descriptor.name == STREAM for m in first.state_messages)
    second = run_read(config, [STREAM], state=state_for({STREAM: final_state(first, STREAM)}) if has_state else None)
    assert not second.errors, error_messages(second)
    return set(ids_of(first)) | set(ids_of(second))


# ---- transient faults: retried, the sync completes with every call ------------------------------

QUOTA_BODY = error_response("OVER_RATE_LIMIT")
TRANSIENT = {
    "429 OVER_RATE_LIMIT (no Retry-After, as RIA sends it)": dict(kind="response", times=2, response=QUOTA_BODY),
    "429 with Retry-After": dict(kind="response", times=2, response=Response(429, b"{}", headers={"Retry-After": "1"})),
    "OVER_RATE_LIMIT body with HTTP 200": dict(kind="response", times=2, response=Response(200, QUOTA_BODY.body)),
    **transport_faults(timeout_seconds=3.5),  # 500, 502, 503, reset, timeout, truncated JSON, HTML with 200
}


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_transient_faults_are_retried_and_every_call_arrives(emulator, ria, retry_waits, name):
    spec = TRANSIENT[name]
    fault = emulator.faults.add(Fault("ria", skip=1, **spec))  # mid-sync: from the 2nd request on
    output = run_read(fast_config(emulator, timeout=2 if name == "timeout" else 5), [STREAM])
    assert not output.errors, error_messages(output)
    assert ids_of(output) == held(ria)
    assert fault.times == 0, "the fault was not triggered"
    # Each window once, plus exactly one retry per injected fault: the quota is spent on nothing else.
    assert len(requests(emulator, WINDOWS + spec["times"])) == WINDOWS + spec["times"]
    assert len(retry_waits) == spec["times"]
    if "OVER_RATE_LIMIT" in name:
        # rate_limit_wait_seconds, doubled per retry of the same request (plus the CDK's extra second).
        assert set(retry_waits) <= {0.1 + 1, 0.2 + 1} and 0.1 + 1 in retry_waits


def test_full_refresh_under_faults_has_no_duplicates(emulator, ria, retry_waits):
    emulator.faults.add(Fault("ria", "reset", times=2, skip=2))
    emulator.faults.add(Fault("ria", "truncate", times=2, skip=6))
    output = run_read(fast_config(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    ids = ids_of(output)
    assert len(ids) == len(set(ids)) and ids == held(ria)


# ---- the hourly quota -------------------------------------------------------------------------


def test_the_hourly_quota_running_out_mid_sync_stops_clearly_and_the_next_hour_loses_nothing(emulator, ria, retry_waits):
    """The emulator's own hourly counter allows 5 requests: 5 windows are read, the 6th is refused,
    waited for twice, then the sync stops with the quota sentence and keeps the state. The later
    windows are refused at once: no more waiting once the quota is known to be gone."""
    ria.hourly_limit = 5
    config = fast_config(emulator, rate_limit_retries=2)
    config["concurrency_level"] = 1
    first = run_read(config, [STREAM])
    assert_one_clear_failure(first, QUOTA.format(after=" and did not recover after 2 retries"), "transient_error")
    statuses = [r.status for r in requests(emulator)]
    assert statuses == [200] * 5 + [429] * 3 + [429] * (WINDOWS - 6)
    assert retry_waits == [0.1 + 1, 0.2 + 1]
    assert final_state(first, STREAM) == last_call_state(emulator, utc_windows(config)[:5])  # the last call of the 5th window
    assert resume(emulator, first, config) == set(held(ria))


def test_quota_body_with_http_200_that_never_lifts_stops_with_the_quota_sentence(emulator, ria, retry_waits):
    emulator.faults.add(Fault("ria", "response", times=-1, skip=4, response=Response(200, QUOTA_BODY.body)))
    config = fast_config(emulator, rate_limit_retries=1)
    config["concurrency_level"] = 1
    first = run_read(config, [STREAM])
    assert_one_clear_failure(first, QUOTA.format(after=" and did not recover after 1 retry"), "transient_error")
    assert final_state(first, STREAM) == last_call_state(emulator, utc_windows(config)[:4])  # the last call of the 4th window
    assert [r.status for r in requests(emulator)] == [200] * (
        4 + 2 + WINDOWS - 5
    )  # 4 read, 1 refused + 1 retry, then each later window once
    assert retry_waits == [0.1 + 1]
    assert resume(emulator, first, config) == set(held(ria))


# ---- faults that retrying does not cure ---------------------------------------------------------

KEY_HINT = "Check ria.api_key."
DISABLED = (
    f"RIA.com: the API key is disabled (API_KEY_DISABLED: The api_key supplied has been disabled. Contact us at "
    f"https://developers.ria.com/contact for assistance). {KEY_HINT}"
)
INVALID = (
    f"RIA.com: the API key was not accepted (API_KEY_INVALID: An invalid api_key was supplied. Get one at "
    f"https://developers.ria.com). {KEY_HINT}"
)

# From the 4th request on, every request gets this answer.
REFUSED = {
    "key disabled mid-sync (403)": (error_response("API_KEY_DISABLED"), DISABLED, "config_error"),
    "key invalid, HTTP 200 body": (Response(200, error_response("API_KEY_INVALID").body), INVALID, "config_error"),
    "403 page that is not JSON": (
        Response(403, b"<html>Forbidden</html>", "text/html"),
        "RIA.com: the API refused access (HTTP 403). Check ria.api_key and ria.user_id.",
        "config_error",
    ),
    "unknown error code, HTTP 200 body": (
        Response.json({"error": {"code": "SERVICE_PAUSED", "message": "Сервис на обслуживании"}}),
        "RIA.com: the API rejected the request (SERVICE_PAUSED: Сервис на обслуживании).",
        "system_error",
    ),
    "error as plain text, HTTP 200 body": (
        Response.json({"error": "Server is busy"}),
        "RIA.com: the API rejected the request (Server is busy).",
        "system_error",
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_refusal_mid_sync_stops_at_once_and_the_next_sync_loses_nothing(emulator, ria, retry_waits, name):
    response, message, failure_type = REFUSED[name]
    config = fast_config(emulator)
    config["concurrency_level"] = 1
    emulator.faults.add(Fault("ria", "response", times=-1, skip=3, response=response))
    first = run_read(config, [STREAM])
    assert_one_clear_failure(first, message, failure_type)
    assert 0 < len(ids_of(first)) < len(held(ria))
    refused = [window_of(r) for r in requests(emulator)[3:]]
    assert len(refused) == len(set(refused)) == WINDOWS - 3 and retry_waits == []  # never retried
    assert final_state(first, STREAM) == last_call_state(emulator, utc_windows(config)[:3])  # the last call of the 3rd window
    assert resume(emulator, first, config) == set(held(ria))


KEEPS_FAILING = {
    "500": (
        dict(kind="response", response=Response(500, b"down", "text/plain")),
        "RIA.com: the API answered with a server error" + AFTER_RETRIES,
        "transient_error",
    ),
    "connection reset": (
        dict(kind="reset"),
        "RIA.com: the connection to the API failed (ConnectionError: ('Connection aborted.', "
        "RemoteDisconnected('Remote end closed connection without response')))" + AFTER_RETRIES,
        "system_error",
    ),
    "HTML page with HTTP 200": (
        dict(kind="response", response=Response(200, b"<html>maintenance</html>", "text/html")),
        "RIA.com: the API sent a response that is not valid JSON (cut off or an HTML page)" + AFTER_RETRIES,
        "system_error",
    ),
}


@pytest.mark.parametrize("name", list(KEEPS_FAILING))
def test_a_window_that_keeps_failing_stops_clearly_and_the_state_stays_before_it(emulator, ria, retry_waits, name):
    spec, message, failure_type = KEEPS_FAILING[name]
    config = fast_config(emulator)
    fifth = utc_windows(config)[4]  # 2024-02-10 .. 2024-02-19 (UTC), asked from 9 February (Kyiv)
    emulator.faults.add(Fault("ria", times=-1, match=from_day(request_days(fifth)[0]), **spec))
    first = run_read(config, [STREAM])
    assert_one_clear_failure(first, message, failure_type)
    asked = [window_of(r) for r in requests(emulator)]
    assert asked.count(request_days(fifth)[0]) == 7 and len(asked) == WINDOWS + 6  # the first try and 6 retries
    assert len(retry_waits) == 6
    assert final_state(first, STREAM)["event_time_utc"] < iso_z(fifth[0])
    # Later windows were read anyway.
    assert max(r["event_time_utc"] for r in records_by_stream(first)[STREAM]) > iso_z(fifth[1])
    assert resume(emulator, first, config) == set(held(ria))


def test_malformed_calls_never_crash_the_sync_nor_break_the_schema_silently(emulator, ria):
    import json

    import jsonschema

    malformed = [
        {"call_id": "22300001", "date": "2024-01-05T10:00:00", "duration": "12", "price": "n/a", "marka": "Škoda ☎️" * 20000},
        {"call_id": None, "date": None, "status": ["ANSWER"], "unexpected": {"nested": True}},
        "not a call",
        42,
        None,
    ]
    emulator.faults.add(Fault("ria", "response", times=1, response=Response.json(malformed)))
    output = run_read(fast_config(emulator, window_days=200), [STREAM])
    assert not output.errors, error_messages(output)
    records = records_by_stream(output)[STREAM]
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / "ria_calls.json").read_text()))
    for record in records:
        validator.validate(record)
    assert len(records) == 2
    first, second = records
    assert first["call_id"] == 22300001 and first["duration"] == 12 and first.get("price") is None
    assert first["_invalid_fields"] == {"price": "n/a"} and first["marka"] == "Škoda ☎️" * 20000
    assert second["_invalid_fields"] == {"status": '["ANSWER"]'}
    warnings = [m.log.message for m in output.logs if "_invalid_fields" in (m.log.message or "")]
    assert any(w.startswith("RIA.com: stream ria_calls: the API sent a str for `price`") for w in warnings)


def test_an_object_instead_of_the_array_of_calls_stops_clearly(emulator, ria, retry_waits):
    emulator.faults.add(Fault("ria", "response", times=-1, response=Response.json({"calls": [{"call_id": 1}]})))
    output = run_read(fast_config(emulator), [STREAM])
    assert_one_clear_failure(
        output,
        'RIA.com: the API answered with an object where the list of calls was expected ({"calls": [{"call_id": 1}]}).',
        "system_error",
    )
    assert output.records == [] and retry_waits == []

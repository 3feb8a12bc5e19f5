"""CallKeeper REST API (api.callkeeper.ru) under faults: every sync either completes with every
record, or stops with one clear message naming CallKeeper and the cause, and a state from which
the next sync (fault cleared) loses nothing. Retry waits are recorded, not slept (`retry_waits`)."""

import datetime as dt
import time
from urllib.parse import parse_qs

import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.helpers import SCHEMAS, transport_faults
from testkit.connector import error_messages, final_state, records_by_stream, run_read, state_for
from testkit.emulator.faults import Fault
from testkit.emulator.server import Response
from testkit.emulator.world import world_config

START, END = "2024-01-01T00:00:00", "2024-04-30T23:59:59"
METHODS = {"callkeeper_calls": "getCallsInfo", "callkeeper_tap2calls": "getT2C"}
STREAMS = list(METHODS)
WINDOWS = 9  # 121 days in windows of 14


def held(emulator, stream):
    return sorted(emulator.vendors["callkeeper"].call_ids(METHODS[stream], START, END))


def everything(emulator):
    return {s: set(held(emulator, s)) for s in STREAMS}


def fast_config(emulator, timeout=5, **block):
    """Short backoff; a 5 s read timeout unless a test is about timeouts (1 s is too tight for exact
    request counts on a loaded machine)."""
    config = world_config(emulator, ["callkeeper"], retry_backoff_seconds=0.1, request_timeout_seconds=timeout)
    config["callkeeper"].update({"window_days": 14, **block})
    return config


def ids_of(output, stream):
    return sorted(int(r["id"]) for r in records_by_stream(output).get(stream, []))


def window_start(request):
    """The first second of the window a request asks for (it asks from the second before, in UTC here)."""
    asked = dt.datetime.fromisoformat(parse_qs(request.query)["date[from]"][0])
    return (asked + dt.timedelta(seconds=1)).isoformat()


def latest_date(records):
    """The latest `date` of some calls, in the form of the state ("Y-m-d H:i:s"), whatever form they came in."""
    moments = [dt.datetime.fromisoformat(r["date"].replace("+00:00", "")) for r in records]
    return max(moments).strftime("%Y-%m-%d %H:%M:%S")


def on(stream, window_from=None):
    """A fault match: the requests of one stream's method (and, given, one window)."""

    def match(request):
        if request.path != "/" + METHODS[stream]:
            return False
        return window_from is None or window_start(request).startswith(window_from)

    return match


def requests_for(emulator, stream, expected=None):
    """The stream's requests; with `expected`, waits (3 s at most) for late ones: a request the
    connector gave up on (timeout) is logged by the emulator only once its answer is ready."""
    deadline = time.monotonic() + 3
    while True:
        found = emulator.requests_to("callkeeper", "/" + METHODS[stream] + "?")
        if expected is None or len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def windows_of(requests):
    return [window_start(r) for r in requests]


def stream_errors(output):
    """The per-stream failures (the final summary has no stream)."""
    return [e.trace.error for e in output.errors if e.trace.error.stream_descriptor]


def assert_one_clear_failure(output, stream, message, failure_type):
    """One failure, for the stream, with the exact sentence; the final summary quotes it; no traceback."""
    errors = stream_errors(output)
    assert [(e.stream_descriptor.name, e.message) for e in errors] == [(stream, message)], error_messages(output)
    assert errors[0].failure_type.value == failure_type
    final = output.errors[-1].trace.error
    assert final.message == f"The sync did not finish. {message.rstrip('.')} (stream {stream})."
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def resume(emulator, first, config, streams=STREAMS):
    """The next sync from the first one's last states, faults cleared; the union of ids per stream."""
    emulator.faults.clear()
    states = {
        s: final_state(first, s) for s in streams if any(m.state.stream.stream_descriptor.name == s for m in first.state_messages)
    }
    second = run_read(config, streams, state=state_for(states) if states else None)
    assert not second.errors, error_messages(second)
    return {s: set(ids_of(first, s)) | set(ids_of(second, s)) for s in streams}


# ---- transient faults: retried, the sync completes with every record ----------------------------

TRANSIENT = {
    "429 without Retry-After": dict(kind="response", times=2, response=Response(429, b"Too Many Requests", "text/plain")),
    "429 with Retry-After": dict(kind="response", times=1, response=Response(429, b"{}", headers={"Retry-After": "7"})),
    **transport_faults(timeout_seconds=2),  # 500, 502, 503, reset, timeout, truncated JSON, HTML with 200
}


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_transient_faults_are_retried_and_every_record_arrives(emulator, retry_waits, name):
    """The fault hits both streams mid-sync (from their 2nd request on)."""
    spec = TRANSIENT[name]
    faults = [emulator.faults.add(Fault("callkeeper", skip=1, match=on(stream), **spec)) for stream in STREAMS]
    output = run_read(fast_config(emulator, timeout=1 if name == "timeout" else 5), STREAMS)
    assert not output.errors, error_messages(output)
    for stream in STREAMS:
        assert ids_of(output, stream) == held(emulator, stream), stream
        # Each window once, plus exactly one retry per injected fault.
        assert len(requests_for(emulator, stream, WINDOWS + spec["times"])) == WINDOWS + spec["times"], stream
    assert all(f.times == 0 for f in faults), "a fault was not triggered"
    assert len(retry_waits) == 2 * spec["times"]
    if name == "429 with Retry-After":
        assert retry_waits == [8, 8], "Retry-After (7 s) is honoured, plus the CDK's extra second"
    else:
        assert all(wait < 3 for wait in retry_waits), retry_waits  # 0.1 * 2^attempt, plus one second


def test_full_refresh_under_faults_has_no_duplicates(emulator, retry_waits):
    emulator.faults.add(Fault("callkeeper", "reset", times=3, skip=2))
    emulator.faults.add(Fault("callkeeper", "truncate", times=2, skip=5))
    output = run_read(fast_config(emulator), STREAMS, sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    for stream in STREAMS:
        ids = ids_of(output, stream)
        assert len(ids) == len(set(ids)) and ids == held(emulator, stream)


# ---- faults that retrying does not cure: one clear message, a state that loses nothing ---------

KEY = "CallKeeper: the API key was not accepted (Not the correct key api). Check callkeeper.api_key."
USER = "CallKeeper: the API key belongs to no known user (Unknown user). Check callkeeper.api_key."
WIDGET = "CallKeeper: the widget is disabled (The widget is disabled). Enable it in the CallKeeper account."
REJECTED = "CallKeeper: the API rejected the request (Wrong data type!)."
AFTER_RETRIES = ". It failed the same way on every retry, so the stream stopped; sync again later."

# From the 4th window of callkeeper_calls on, every request gets this answer (retrying cannot help).
REFUSED = {
    "key stops working (403)": (
        Response.json({"status": "fail", "reason": "Not the correct key api"}, status=403),
        KEY,
        "config_error",
    ),
    "key stops working, HTTP 200 body": (
        Response.json({"status": "fail", "reason": "Not the correct key api"}),
        KEY,
        "config_error",
    ),
    "unknown user, array body with HTTP 200": (
        Response.json([{"status": "fail", "reason": "Unknown user"}]),
        USER,
        "config_error",
    ),
    "widget disabled (710)": (
        Response.json({"status": "fail", "reason": "The widget is disabled"}, status=710),
        WIDGET,
        "config_error",
    ),
    "request rejected, HTTP 200 body": (
        Response.json({"status": "fail", "reason": "Wrong data type!"}),
        REJECTED,
        "system_error",
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_refusal_mid_sync_stops_at_once_with_its_reason_and_the_next_sync_loses_nothing(emulator, retry_waits, name):
    response, message, failure_type = REFUSED[name]
    config = fast_config(emulator)
    config["concurrency_level"] = 1
    emulator.faults.add(Fault("callkeeper", "response", times=-1, skip=3, response=response, match=on("callkeeper_calls")))
    first = run_read(config, STREAMS)
    assert_one_clear_failure(first, "callkeeper_calls", message, failure_type)
    assert 0 < len(ids_of(first, "callkeeper_calls")) < len(held(emulator, "callkeeper_calls"))
    assert ids_of(first, "callkeeper_tap2calls") == held(emulator, "callkeeper_tap2calls"), "the other stream goes on"
    # Never retried: each refused window was asked once.
    refused = windows_of(requests_for(emulator, "callkeeper_calls")[3:])
    assert len(refused) == 6 and len(set(refused)) == 6 and retry_waits == []
    # The state never runs ahead of what was emitted.
    assert final_state(first, "callkeeper_calls")["date"] == latest_date(records_by_stream(first)["callkeeper_calls"])
    assert resume(emulator, first, config) == everything(emulator)


# One window (the 4th) of callkeeper_calls keeps failing; the later windows succeed.
KEEPS_FAILING = {
    "500": (
        dict(kind="response", response=Response(500, b"down", "text/plain")),
        "CallKeeper: the API answered with a server error" + AFTER_RETRIES,
        "transient_error",
    ),
    "429": (
        dict(kind="response", response=Response(429, b"{}")),
        "CallKeeper: the API rate limit was reached" + AFTER_RETRIES,
        "transient_error",
    ),
    "connection reset": (
        dict(kind="reset"),
        "CallKeeper: the connection to the API failed (ConnectionError: ('Connection aborted.', "
        "RemoteDisconnected('Remote end closed connection without response')))" + AFTER_RETRIES,
        "system_error",
    ),
    "truncated JSON": (
        dict(kind="truncate"),
        "CallKeeper: the API sent a response that is not valid JSON (cut off or an HTML page)" + AFTER_RETRIES,
        "system_error",
    ),
}


@pytest.mark.parametrize("name", list(KEEPS_FAILING))
def test_a_window_that_keeps_failing_stops_clearly_after_5_retries_and_loses_nothing(emulator, retry_waits, name):
    spec, message, failure_type = KEEPS_FAILING[name]
    config = fast_config(emulator)
    emulator.faults.add(Fault("callkeeper", times=-1, match=on("callkeeper_calls", "2024-02-12"), **spec))
    first = run_read(config, STREAMS)
    assert_one_clear_failure(first, "callkeeper_calls", message, failure_type)
    asked = windows_of(requests_for(emulator, "callkeeper_calls"))
    assert asked.count("2024-02-12T00:00:00") == 6  # the first try and 5 retries
    assert len(asked) == 9 + 5 and len(retry_waits) == 5
    # The windows after the failed one were read, but the state stays before it: the next sync re-reads from there.
    state = final_state(first, "callkeeper_calls")["date"]
    assert state < "2024-02-12" and latest_date(records_by_stream(first)["callkeeper_calls"]) > "2024-02-26"
    assert resume(emulator, first, config) == everything(emulator)


def test_a_key_that_stops_working_mid_sync_with_concurrency_loses_nothing(emulator, retry_waits):
    """Every stream of the provider, 4 requests at a time: the first 10 requests answer, then every
    request is refused, whatever stream and window it is for."""
    streams = STREAMS + ["callkeeper_completed_calls", "callkeeper_calls_by_status"]
    config = fast_config(emulator)
    emulator.faults.add(
        Fault(
            "callkeeper",
            "response",
            times=-1,
            skip=10,
            response=Response.json({"status": "fail", "reason": "Not the correct key api"}, status=403),
        )
    )
    first = run_read(config, streams)
    errors = stream_errors(first)
    assert errors and {e.stream_descriptor.name for e in errors} <= set(streams)
    assert {e.message for e in errors} == {KEY}
    assert len(errors) == len({e.stream_descriptor.name for e in errors}), "one message per stream"
    assert first.errors[-1].trace.error.failure_type.value == "config_error"
    assert retry_waits == []
    emulator.faults.clear()
    union = resume(emulator, first, config, streams)
    vendor = emulator.vendors["callkeeper"]
    assert union["callkeeper_calls"] == set(held(emulator, "callkeeper_calls"))
    assert union["callkeeper_tap2calls"] == set(held(emulator, "callkeeper_tap2calls"))
    assert union["callkeeper_completed_calls"] == set(vendor.call_ids("getCallsCompleted", START, END))
    assert union["callkeeper_calls_by_status"] == set(
        vendor.call_ids("getCallsByStatus", START, END, config["callkeeper"]["statuses"])
    )


def test_malformed_calls_never_crash_the_sync_nor_break_the_schema_silently(emulator):
    import json

    import jsonschema

    malformed = [
        {"id": 1, "date": "2024-01-01 10:00:00", "status_code": "200", "status2_code": 200, "ip": 3232235777, "city": ["Москва"]},
        {"id": None, "date": "2024-01-02 10:00:00", "region": "Москва ☎️" * 20000, "status_code": {"x": 1}},
        {"id": "abc", "date": "2024-01-03 10:00:00", "unexpected": {"nested": [1, 2]}, "tags": False},
        "not a call",
        {"status": "fail", "reason": "inside a list of calls"},
    ]
    emulator.faults.add(
        Fault(
            "callkeeper",
            "response",
            times=1,
            response=Response.json({"status": "success", "result": malformed}),
            match=on("callkeeper_calls", "2024-01-01"),
        )
    )
    config = fast_config(emulator)
    config["concurrency_level"] = 1
    output = run_read(config, ["callkeeper_calls"])
    assert not output.errors, error_messages(output)
    records = records_by_stream(output)["callkeeper_calls"]
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / "callkeeper_calls.json").read_text()))
    for record in records:
        validator.validate(record)
    assert [r.get("id") for r in records[:3]] == [1, None, "abc"]  # the first window's answer, then the real calls
    first, second, third = records[:3]
    assert first["status_title"] == "Звонок прошел успешно" and first["ip"] == "3232235777"
    assert first["_invalid_fields"] == {"city": '["Москва"]'} and first.get("city") is None
    assert second["region"] == "Москва ☎️" * 20000 and second.get("status_title") is None
    assert second["_invalid_fields"] == {"status_code": '{"x":1}'}
    assert third["_invalid_fields"] == {"tags": "false"}
    warnings = [m.log.message for m in output.logs if "_invalid_fields" in (m.log.message or "")]
    assert any(w.startswith("CallKeeper: stream callkeeper_calls: the API sent a list for `city`") for w in warnings)

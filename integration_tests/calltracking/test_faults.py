"""ckct.ru under faults: every sync either completes with every call, or stops with one clear
message and a state from which the next sync loses nothing."""

import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.helpers import SCHEMAS
from testkit.connector import final_state, records_by_stream, run_read, state_for
from testkit.emulator.faults import Fault
from testkit.emulator.server import Response
from testkit.emulator.world import world_config

STREAM = "calltracking_calls"


def all_ids(emulator):
    vendor = emulator.vendors["ckct"]
    return sorted(vendor.call_ids(vendor.accounts[0].own, "2024-01-01", "2024-04-30T23:59:59"))


def fast_config(emulator, **overrides):
    return world_config(emulator, retry_backoff_seconds=0.1, request_timeout_seconds=1, **overrides)


def ids_of(output):
    return sorted(r["record_id"] for r in records_by_stream(output).get(STREAM, []))


TRANSIENT = {
    "429 without Retry-After": Fault("ckct", "response", times=2, response=Response(429, b"Too Many Requests", "text/plain")),
    "429 with Retry-After": Fault("ckct", "response", times=2, response=Response(429, b"{}", headers={"Retry-After": "1"})),
    "500": Fault("ckct", "response", times=2, response=Response(500, b"Internal Server Error", "text/plain")),
    "502 HTML page": Fault(
        "ckct", "response", times=2, response=Response(502, b"<html><body>Bad Gateway</body></html>", "text/html")
    ),
    "503": Fault("ckct", "response", times=3, response=Response(503, b"")),
    "connection reset": Fault("ckct", "reset", times=2),
    "timeout": Fault("ckct", "timeout", times=1, seconds=2.5),
    "truncated JSON": Fault("ckct", "truncate", times=2),
    "HTML page with HTTP 200": Fault(
        "ckct", "response", times=2, response=Response(200, b"<html>maintenance</html>", "text/html")
    ),
}


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_transient_faults_are_retried_and_every_call_arrives(emulator, name):
    fault = TRANSIENT[name]
    fault.skip = 1  # let the first request through, fail the next ones: mid-sync
    emulator.faults.add(fault)
    output = run_read(fast_config(emulator), [STREAM])
    assert not output.errors, [e.trace.error.message for e in output.errors]
    assert ids_of(output) == all_ids(emulator)
    assert fault.times == 0, "the fault was not triggered"


def resume_after(emulator, first, config):
    """Run the next sync from the first one's last state, faults cleared; return the union of ids."""
    emulator.faults.clear()
    state = final_state(first, STREAM) if first.state_messages else None
    second = run_read(config, [STREAM], state=state_for({STREAM: state}) if state else None)
    assert not second.errors
    return set(ids_of(first)) | set(ids_of(second))


def test_a_server_that_keeps_failing_stops_the_sync_clearly_and_loses_nothing(emulator):
    config = fast_config(emulator)
    emulator.faults.add(Fault("ckct", "response", times=-1, skip=2, response=Response(500, b"down", "text/plain")))
    first = run_read(config, [STREAM])
    message = first.errors[-1].trace.error.message
    assert message.startswith("The sync did not finish.") and "calltracking_calls" in message
    assert "Traceback" not in message
    assert resume_after(emulator, first, config) == set(all_ids(emulator))


def test_a_key_that_stops_working_mid_sync_is_a_config_error_and_loses_nothing(emulator):
    config = fast_config(emulator, concurrency_level=1)
    error = Response.json({"inbound": {"error": "User is not recognized"}, "payload": []})
    emulator.faults.add(Fault("ckct", "response", times=-1, skip=3, response=error))
    first = run_read(config, [STREAM])
    final = first.errors[-1].trace.error
    assert final.failure_type.value == "config_error"
    assert "the API key was not recognized (User is not recognized)" in final.message
    assert 0 < len(ids_of(first)) < len(all_ids(emulator))
    assert resume_after(emulator, first, config) == set(all_ids(emulator))


def test_full_refresh_under_faults_has_no_duplicates(emulator):
    emulator.faults.add(Fault("ckct", "reset", times=3, skip=1))
    output = run_read(fast_config(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    ids = ids_of(output)
    assert len(ids) == len(set(ids)) and ids == all_ids(emulator)


def test_malformed_calls_never_crash_the_sync_nor_break_the_schema_silently(emulator):
    import json

    import jsonschema

    malformed = [
        {"universalId": 1, "callTime": "not a date", "duration": "12", "statusFirst": "abc", "tags": [1, None], "hooks": "x"},
        {"universalId": None, "callId": None, "callTime": None, "city": "Москва ☎️" * 20000},  # no id, no time, a huge string
        {"callId": "1337486", "timeStart": 1709290000, "tagsId": "5", "unique": "yes", "unexpected": {"nested": [1, 2]}},
        {},
    ]
    body = Response.json({"inbound": {}, "info": {"ofPages": 1}, "payload": malformed})
    emulator.faults.add(Fault("ckct", "response", times=1, response=body))
    output = run_read(fast_config(emulator, concurrency_level=1), [STREAM])
    assert not output.errors
    records = records_by_stream(output)[STREAM]
    validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{STREAM}.json").read_text()))
    for record in records:
        validator.validate(record)
    first, second, third, fourth = records[:4]
    assert first["record_id"] == "1" and first["duration"] == 12 and first["_invalid_fields"]["statusFirst"] == "abc"
    assert first["call_datetime"] == "2024-01-01 00:00:00"  # unreadable callTime: the window's start
    assert second["record_id"].startswith("sha1:") and second["city"] == "Москва ☎️" * 20000
    assert third["call_datetime"] == "2024-03-01 10:46:40" and third.get("tagsId") is None
    assert fourth["record_id"].startswith("sha1:") and fourth["record_id"] != second["record_id"]
    warnings = [m.log.message for m in output.logs if "_invalid_fields" in (m.log.message or "")]
    assert any("`statusFirst`" in w for w in warnings) and any("`tags`" in w for w in warnings)

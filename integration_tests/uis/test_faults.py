"""UIS / CoMagic Data API under faults: every sync either completes with every row, or stops with
one clear message that names UIS and the cause, and a state from which the next sync (the fault
cleared) loses nothing.

Two windowed reports are read over 16 months, six date windows each (88 days per window, one
request per window: the rows fit one page). Faults come from the transport
(`emulator.faults`: HTTP status, reset, timeout, truncated or HTML bodies) or from the UIS vendor
itself (`UisEmulator.inject`: the JSON-RPC errors the API sends with HTTP 200, by mnemonic).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import make_file

from integration_tests.helpers import SCHEMAS, run_cli_read
from integration_tests.uis.helpers import method_of, reports_only, to_window
from testkit.connector import (
    assert_no_secrets_in,
    catalog_for,
    error_messages,
    final_state,
    records_by_stream,
    run_command,
    run_read,
    state_for,
)
from testkit.emulator.faults import Fault
from testkit.emulator.server import Response
from testkit.emulator.timeline import spread
from testkit.emulator.world import UIS_ACCESS_TOKEN, world_config

START, END = "2023-01-01", "2024-04-30T23:59:59"
WINDOWS = 6  # 2023-01-01 .. 2024-04-30 in windows of 88 days
METHODS = {"uis_calls": "get.calls_report", "uis_communications": "get.communications_report"}
ROWS = {"get.calls_report": 600, "get.communications_report": 400}  # 100 and 67 per window: the faults matter, not the volume
SECOND_WINDOW = "2023-03-30 00:00:00"  # the first UTC instant of the second window
THIRD_WINDOW = "2023-06-26 00:00:00"  # the first UTC instant of the third window


def uis(emulator):
    return emulator.vendors["uis"]


def spread_rows(emulator):
    for method, count in ROWS.items():
        uis(emulator).timelines[method] = spread(count, START, END)


def fast_config(emulator, **overrides):
    spread_rows(emulator)
    overrides.setdefault("concurrency_level", 2)
    overrides.setdefault("retry_backoff_seconds", 0.1)
    return world_config(emulator, ["uis"], start_date=START, request_timeout_seconds=1, **overrides)


def all_ids(emulator, stream):
    return sorted(uis(emulator).ids(METHODS[stream], START, END))


def ids_of(output, stream):
    return sorted(r["id"] for r in records_by_stream(output).get(stream, []))


def body_of(request):
    try:
        return json.loads(request.body)
    except ValueError:
        return {}


def to_method(method):
    """A fault `match`: requests for this report."""
    return lambda request: method_of(request) == method


def requests_for(emulator, method):
    return [r for r in emulator.requests_to("uis") if body_of(r).get("method") == method]


def account_requests(emulator):
    """The get.account requests: since 0.2.0 the account's zone is asked once per account and sync."""
    return requests_for(emulator, "get.account")


def resume_after(emulator, first, config, stream):
    """The next sync from the first one's last state, every fault cleared: the union of both runs' ids."""
    emulator.faults.clear()  # the transport faults and the API errors injected: one plan
    state = (
        final_state(first, stream) if any(m.state.stream.stream_descriptor.name == stream for m in first.state_messages) else None
    )
    second = run_read(config, [stream], state=state_for({stream: state}) if state else None)
    assert not second.errors, error_messages(second)
    union = set(ids_of(first, stream)) | set(ids_of(second, stream))
    return union


# ---- faults the connector rides out: the sync completes with every row ---------------------------


def _error_body(mnemonic, message, code, metadata=None):
    data = {"mnemonic": mnemonic, "field": None, "value": None, "params": {}}
    if metadata is not None:
        data["metadata"] = metadata
    return Response.json({"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": message, "data": data}})


def _minute_limit_exceeded():
    """limit_exceeded as the API sends it when the minute's budget is spent: with `error.data.metadata.limits`,
    the minute resetting now (`minute_reset` 0)."""
    return _error_body(
        "limit_exceeded",
        "The limit of requests has been exceeded",
        -32029,
        {
            "limits": {
                "day_limit": 10000,
                "day_remaining": 9000,
                "day_reset": 3600,
                "minute_limit": 10,
                "minute_remaining": 0,
                "minute_reset": 0,
            }
        },
    )


TRANSIENT = {
    # HTTP-level faults (name -> Fault without vendor match; `times` = extra requests expected)
    "429 without Retry-After": lambda: Fault(
        "uis", "response", times=2, response=Response(429, b"Too Many Requests", "text/plain")
    ),
    "429 with Retry-After": lambda: Fault(
        "uis", "response", times=2, response=Response(429, b"{}", headers={"Retry-After": "1"})
    ),
    "500": lambda: Fault("uis", "response", times=2, response=Response(500, b"Internal Server Error", "text/plain")),
    "502 HTML page": lambda: Fault(
        "uis", "response", times=2, response=Response(502, b"<html><body>Bad Gateway</body></html>", "text/html")
    ),
    "503 empty": lambda: Fault("uis", "response", times=3, response=Response(503, b"")),
    "connection reset": lambda: Fault("uis", "reset", times=2),
    "timeout": lambda: Fault("uis", "timeout", times=1, seconds=2.5),
    "truncated JSON": lambda: Fault("uis", "truncate", times=2),
    "HTML page with HTTP 200": lambda: Fault(
        "uis", "response", times=2, response=Response(200, b"<html>maintenance</html>", "text/html")
    ),
    "empty body with HTTP 200": lambda: Fault("uis", "response", times=1, response=Response(200, b"")),
    # JSON-RPC errors with HTTP 200 the API asks to retry: bodies as the API sends them, once
    # with `error.data.metadata.limits` (waited out: minute_reset + 1 s), once without (backoff).
    "limit_exceeded, minute_reset 0": lambda: Fault(
        "uis",
        "response",
        times=1,
        response=_minute_limit_exceeded(),
    ),
    "limit_exceeded without metadata": lambda: Fault(
        "uis", "response", times=2, response=_error_body("limit_exceeded", "The limit of requests has been exceeded", -32029)
    ),
    "internal_error": lambda: Fault(
        "uis", "response", times=2, response=_error_body("internal_error", "Internal error, please try again later", -32603)
    ),
}


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_transient_faults_are_retried_and_every_row_arrives(emulator, name):
    """Both reports at once; each gets the fault mid-sync (its first window goes through)."""
    config = fast_config(emulator)
    faults = {}
    for stream, method in METHODS.items():
        fault = faults[stream] = TRANSIENT[name]()
        fault.match, fault.skip = to_method(method), 1
        emulator.faults.add(fault)
    extra = {stream: fault.times for stream, fault in faults.items()}
    output = run_read(config, list(METHODS))
    assert not output.errors, error_messages(output)
    for stream, method in METHODS.items():
        assert ids_of(output, stream) == all_ids(emulator, stream), f"{stream}: rows lost or duplicated"
        assert faults[stream].times == 0, "the fault was not triggered"
        if name == "timeout":  # the emulator logs the timed-out request when its handler wakes up (2.5 s)
            time.sleep(2)
        sent = len(requests_for(emulator, method))
        if name == "connection reset":  # a reset may also hit a request another thread had in flight
            assert WINDOWS < sent <= WINDOWS + 2 * extra[stream]
        else:
            assert sent == WINDOWS + extra[stream]  # one retry per failed request, no more


def test_the_minute_budget_of_the_token_is_kept_to_without_a_refusal(emulator):
    """The real per-minute budget, counted down by the emulator and reported in every answer: the
    connector waits for the minute to reset instead of being refused."""
    config = fast_config(emulator, concurrency_level=1)
    uis(emulator).set_budget(UIS_ACCESS_TOKEN, minute_limit=3, minute_seconds=2)  # six windows: two minutes' worth
    output = run_read(config, ["uis_calls"])
    assert not output.errors, error_messages(output)
    assert ids_of(output, "uis_calls") == all_ids(emulator, "uis_calls")
    # get.account spends the budget too: one call, then the six windows
    assert uis(emulator).errors_sent == [] and len(emulator.requests_to("uis")) == 1 + WINDOWS
    assert len(account_requests(emulator)) == 1
    assert any("left in this minute's Data API budget" in (m.log.message or "") for m in output.logs)


def test_a_burst_beyond_the_minute_budget_is_refused_then_waited_out(emulator):
    """More requests in flight at once than the minute allows (or another client spending the same
    budget): the refused ones are waited out and retried, and no row is lost."""
    config = fast_config(emulator, concurrency_level=4)
    uis(emulator).set_budget(UIS_ACCESS_TOKEN, minute_limit=2, minute_seconds=1)
    output = run_read(config, ["uis_calls"])
    assert not output.errors, error_messages(output)
    assert ids_of(output, "uis_calls") == all_ids(emulator, "uis_calls")
    refused = uis(emulator).errors_sent.count("limit_exceeded")
    assert refused > 0 and set(uis(emulator).errors_sent) == {"limit_exceeded"}
    assert len(account_requests(emulator)) == 1
    assert len(emulator.requests_to("uis")) == 1 + WINDOWS + refused


def test_full_refresh_under_faults_has_no_duplicates(emulator):
    config = fast_config(emulator)
    emulator.faults.add(Fault("uis", "reset", times=3, skip=1, match=reports_only))
    uis(emulator).inject("internal_error", times=2, skip=2).match = reports_only
    output = run_read(config, list(METHODS), sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    for stream in METHODS:
        ids = ids_of(output, stream)
        assert len(ids) == len(set(ids)) and ids == all_ids(emulator, stream)


# ---- faults that outlast the retries: one clear message, and the next sync loses nothing ----------

AFTER_RETRIES = "It failed the same way on every retry, so the stream stopped; sync again later."
PERSISTENT = {
    "500": (
        lambda: Fault("uis", "response", times=-1, response=Response(500, b"down", "text/plain")),
        "UIS: the API answered with a server error.",
        "transient_error",
    ),
    "429": (
        lambda: Fault("uis", "response", times=-1, response=Response(429, b"slow down", "text/plain")),
        "UIS: the API rate limit was reached.",
        "transient_error",
    ),
    "connection reset": (
        lambda: Fault("uis", "reset", times=-1),
        "UIS: the connection to the API failed (ConnectionError: ",
        "system_error",
    ),
    "HTML page with HTTP 200": (
        lambda: Fault("uis", "response", times=-1, response=Response(200, b"<html>login</html>", "text/html")),
        "UIS: the API sent a response that is not valid JSON (cut off or an HTML page).",
        "system_error",
    ),
    "internal_error": (
        lambda: Fault(
            "uis", "response", times=-1, response=_error_body("internal_error", "Internal error, please try again later", -32603)
        ),
        "UIS: the API reported an internal error (internal_error: Internal error, please try again later).",
        "system_error",
    ),
    "limit_exceeded (minute)": (
        lambda: Fault(
            "uis",
            "response",
            times=-1,
            response=_minute_limit_exceeded(),
        ),
        "UIS: the Data API's per-minute request limit was reached (limit_exceeded).",
        "system_error",
    ),
}


@pytest.mark.parametrize("name", list(PERSISTENT))
def test_a_fault_that_outlasts_the_retries_stops_clearly_and_loses_nothing(emulator, name):
    stream, method = "uis_calls", METHODS["uis_calls"]
    config = fast_config(emulator)
    make, cause, failure_type = PERSISTENT[name]
    fault = make()
    fault.match = to_window(emulator, method, THIRD_WINDOW)  # one window keeps failing, the others are read
    emulator.faults.add(fault)
    first = run_read(config, [stream])
    messages = error_messages(first)
    assert len(messages) == 2, messages  # the stream's failure, once, and the sync's summary
    assert messages[0].startswith(cause) and messages[0].endswith(AFTER_RETRIES), messages[0]
    assert messages[-1] == f"The sync did not finish. {messages[0][:-1]} (stream {stream})."
    assert "Traceback" not in messages[-1] and "Exhausted" not in messages[-1]
    assert first.errors[-1].trace.error.failure_type.value == failure_type
    third = [r for r in requests_for(emulator, method) if to_window(emulator, method, THIRD_WINDOW)(r)]
    assert len(third) == 1 + 5  # the UIS error handler's max_retries
    assert 0 < len(ids_of(first, stream)) < len(all_ids(emulator, stream))
    assert resume_after(emulator, first, config, stream) == set(all_ids(emulator, stream))


CREDENTIAL_ERRORS = {
    "access_token_expired": "UIS: the access token has expired (access_token_expired). Create a new token",
    "access_token_invalid": "UIS: the access token is invalid (access_token_invalid). Check uis.access_token",
    "access_token_blocked": "UIS: the access token is blocked (access_token_blocked).",
    "auth_error": "UIS: the API did not accept the credentials (auth_error).",
    "ip_not_whitelisted": "UIS: the IP address the connector runs from is not on the account's list",
    "account_inactive": "UIS: the account is inactive (account_inactive).",
    "forbidden": "UIS: the token's user may not call get.calls_report (forbidden).",
    "method_component_disabled": "UIS: the account's plan does not include get.calls_report (method_component_disabled).",
}


@pytest.mark.parametrize("mnemonic", list(CREDENTIAL_ERRORS))
def test_access_that_stops_working_mid_sync_is_a_config_error_and_loses_nothing(emulator, mnemonic):
    stream = "uis_calls"
    config = fast_config(emulator, concurrency_level=1)
    uis(emulator).inject(
        mnemonic, times=-1, skip=2
    ).match = reports_only  # the first two windows are read, then every request fails
    first = run_read(config, [stream])
    messages = error_messages(first)
    assert len(messages) == 2, messages
    assert messages[0].startswith(CREDENTIAL_ERRORS[mnemonic]), messages[0]
    assert "(The API said: " in messages[0]
    assert messages[-1] == f"The sync did not finish. {messages[0].rstrip('.')} (stream {stream})."
    assert first.errors[-1].trace.error.failure_type.value == "config_error"
    assert 0 < len(ids_of(first, stream)) < len(all_ids(emulator, stream))
    # not retried: one request per window
    assert len(requests_for(emulator, METHODS[stream])) == WINDOWS
    assert resume_after(emulator, first, config, stream) == set(all_ids(emulator, stream))


def test_a_token_that_expires_mid_sync_stops_both_streams_and_the_next_sync_loses_nothing(emulator):
    """The real token expires after a few requests (the emulator's own authentication, not an injected error)."""
    config = fast_config(emulator, concurrency_level=1)
    vendor = uis(emulator)
    account = vendor.accounts[0]

    def expire_then_answer(request):
        account.token_state = "expired"
        return vendor.handle(request)

    emulator.faults.add(Fault("uis", "response", times=1, skip=3, match=reports_only, response=expire_then_answer))
    first = run_read(config, list(METHODS))
    final = first.errors[-1].trace.error
    assert final.failure_type.value == "config_error"
    expected = (
        "UIS: the access token has expired (access_token_expired). Create a new token in the account and put it "
        "in uis.access_token. (The API said: Access token has been expired)"
    )
    assert final.message.startswith(f"The sync did not finish. {expected}")
    assert final.message.count("access_token_expired") == 1  # one sentence, not one per stream and window
    assert final.message.endswith(" (streams uis_calls, uis_communications).") or final.message.endswith(
        " (streams uis_communications, uis_calls)."
    )
    account.token_state = "valid"  # the user put a working token in the config
    for stream in METHODS:
        assert resume_after(emulator, first, config, stream) == set(all_ids(emulator, stream))


# The other "bug in the request" mnemonics (invalid_request, data_type_error, sort_prohibited, filter_prohibited,
# invalid_parameters_combination) take the same path: the other_error filter.
REJECTED = {
    "parse_error": ("Parse error", None),
    "unexpected_parameters": ("Unexpected parameters: include_ongoing_calls", "include_ongoing_calls"),
    "date_interval_limit_reached": ("The period between date_from and date_till is longer than 3 months", "date_till"),
    "required_parameter_missed": ("Required parameter date_from is missed", "date_from"),
    "invalid_parameter_value": ("Parameter offset must be between 0 and 100000", "offset"),
}


@pytest.mark.parametrize("mnemonic", list(REJECTED))
def test_a_request_the_api_rejects_mid_sync_is_a_system_error_and_loses_nothing(emulator, mnemonic):
    stream = "uis_communications"
    config = fast_config(emulator, concurrency_level=1)
    message, field = REJECTED[mnemonic]
    uis(emulator).inject(mnemonic, times=-1, skip=2, message=message, field=field).match = reports_only
    first = run_read(config, [stream])
    expected = (
        f"UIS: the API rejected the request to get.communications_report "
        f"({mnemonic}{', field ' + field if field else ''}: {message})."
    )
    assert error_messages(first) == [expected, f"The sync did not finish. {expected[:-1]} (stream {stream})."]
    assert first.errors[-1].trace.error.failure_type.value == "system_error"
    assert len(requests_for(emulator, METHODS[stream])) == WINDOWS  # not retried
    assert resume_after(emulator, first, config, stream) == set(all_ids(emulator, stream))


@pytest.mark.parametrize("stream", list(METHODS))
def test_a_day_limit_used_up_mid_sync_stops_with_the_state_saved(emulator, stream):
    config = fast_config(emulator, concurrency_level=1)
    uis(emulator).set_budget(UIS_ACCESS_TOKEN, day_limit=3)  # get.account (it spends the budget too), then two windows
    first = run_read(config, [stream])
    messages = error_messages(first)
    assert messages[0].startswith("UIS: the Data API's daily request limit is used up (limit_exceeded, day_limit 3).")
    assert messages[-1] == f"The sync did not finish. {messages[0][:-1]} (stream {stream})."
    assert first.errors[-1].trace.error.failure_type.value == "transient_error"
    assert len(account_requests(emulator)) == 1
    assert uis(emulator).errors_sent == ["limit_exceeded"] * (WINDOWS - 2)  # each later window refused once: not retried
    assert len(requests_for(emulator, METHODS[stream])) == WINDOWS
    assert len(ids_of(first, stream)) == len(set(ids_of(first, stream))) > 0
    uis(emulator).set_budget(UIS_ACCESS_TOKEN, day_limit=1000)  # the next day
    assert resume_after(emulator, first, config, stream) == set(all_ids(emulator, stream))


BAD_RESULTS = {
    "data is an object": {"data": {"id": 1}, "metadata": {"total_items": 500}},
    "data is a string": {"data": "rows", "metadata": {"total_items": 500}},
    "a row is not an object": {"data": [{"id": 1, "start_time": "2023-04-01 00:00:00"}, 7], "metadata": {"total_items": 2}},
    "data missing, rows counted": {"metadata": {"total_items": 500}},
}


@pytest.mark.parametrize("name", list(BAD_RESULTS))
def test_a_result_without_a_list_of_rows_stops_the_stream_instead_of_losing_the_window(emulator, name):
    stream = "uis_calls"
    config = fast_config(emulator, concurrency_level=1)
    body = Response.json({"jsonrpc": "2.0", "id": 1, "result": BAD_RESULTS[name]})
    emulator.faults.add(
        Fault("uis", "response", times=-1, match=to_window(emulator, METHODS[stream], SECOND_WINDOW), response=body)
    )
    first = run_read(config, [stream])
    messages = error_messages(first)
    assert len(messages) == 2, messages
    assert messages[0].startswith("UIS: the API answered get.calls_report with a result whose `data` is not a list of rows")
    assert (
        messages[-1].startswith("The sync did not finish. UIS: the API answered get.calls_report")
        and "Traceback" not in messages[-1]
    )
    assert resume_after(emulator, first, config, stream) == set(all_ids(emulator, stream))


def test_malformed_rows_never_crash_the_sync_nor_break_the_schema_silently(emulator):
    import jsonschema

    stream = "uis_calls"
    schema = json.loads((SCHEMAS / f"{stream}.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    rows = [
        {"id": "7", "start_time": "not a date", "talk_duration": "12", "is_lost": "abc", "tags": "vip", "visitor_id": 1.5},
        {"id": 8, "start_time": None, "contact_full_name": "Москва ☎️ \u202e" * 20000},  # no time, a huge string
        {"id": 9, "start_time": "2023-01-05 10:00:00", "unexpected": {"nested": [1, 2]}, "total_duration": 1e300},
        {},  # nothing at all: skipped (and the rest of the sync goes on)
        {"id": None, "start_time": "2023-01-06 10:00:00", "tags": [{"tag_id": "x"}]},
    ]
    body = Response.json({"jsonrpc": "2.0", "id": 1, "result": {"data": rows, "metadata": {"total_items": len(rows)}}})
    emulator.faults.add(Fault("uis", "response", times=1, match=to_method(METHODS[stream]), response=body))
    output = run_read(fast_config(emulator, concurrency_level=1), [stream])
    assert not output.errors, error_messages(output)
    records = records_by_stream(output)[stream]
    for record in records:
        validator.validate(record)
    # The first window was replaced by the rows above; the five other windows are all there.
    first_window = set(uis(emulator).ids(METHODS[stream], START, "2023-03-29T23:59:59"))
    assert sorted(r["id"] for r in records if r.get("id") not in (7, 8, 9, None)) == sorted(
        set(all_ids(emulator, stream)) - first_window
    )
    seven, eight, nine = (next(r for r in records if r.get("id") == i) for i in (7, 8, 9))
    assert seven["talk_duration"] == 12 and seven.get("is_lost") is None
    assert seven["_invalid_fields"] == {"is_lost": "abc", "tags": "vip", "visitor_id": "1.5"}
    assert eight["contact_full_name"] == "Москва ☎️ \u202e" * 20000
    assert nine["unexpected"] == {"nested": [1, 2]} and nine["_invalid_fields"] == {"total_duration": "1e+300"}
    assert len([r for r in records if r.get("id") is None]) == 1
    warnings = [m.log.message for m in output.logs if "_invalid_fields" in (m.log.message or "")]
    assert any(w.startswith("UIS: stream uis_calls: the API sent a str for `is_lost`") for w in warnings), warnings


# ---- --debug prints requests and responses: never the access token ------------------------------

SPECIAL_TOKEN = "u1s+tok/en=9a&b%2Fc?d:e@f~g!h*i'j(k)l;m,n"  # differs from its URL-encoded forms


def _debug_world(emulator):
    vendor = uis(emulator)
    vendor.add_account(SPECIAL_TOKEN)
    config = fast_config(emulator)
    config["uis"]["access_token"] = SPECIAL_TOKEN
    # Faults whose answers echo the request (with the token) back, as some proxies and error pages do.
    emulator.faults.add(
        Fault(
            "uis",
            "response",
            times=1,
            skip=1,
            response=lambda request: Response(500, b"<html>echo: " + request.body + b"</html>", "text/html"),
        )
    )
    emulator.faults.add(
        Fault("uis", "response", times=1, skip=2, response=lambda request: Response(502, request.body, "application/json"))
    )
    return config


def test_a_debug_read_never_prints_the_access_token(emulator):
    config = _debug_world(emulator)
    streams = ["uis_calls", "uis_chat_messages", "uis_financial_summary"]
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "read",
            "--config",
            make_file(Path(tmp) / "config.json", config),
            "--catalog",
            make_file(Path(tmp) / "catalog.json", ConfiguredAirbyteCatalogSerializer.dump(catalog_for(streams))),
            "--debug",
        ]
        output = run_command(args, config)  # asserts that no credential was printed, raw or URL-encoded
    assert len(output.records) == sum(len(x) for x in records_by_stream(output).values()) > 0 and not output.errors
    # the debug output did show requests and responses (so the scan had something to scan)
    debug_lines = [m.log.message for m in output.logs if (m.log.message or "").startswith('{"type": "DEBUG"')]
    assert any("get.calls_report" in line for line in debug_lines)
    assert any("access_token" in line for line in debug_lines)  # the key was there, masked
    assert any("****" in line for line in debug_lines)


def test_a_debug_read_by_the_cli_prints_no_token_on_stdout_or_stderr(emulator, tmp_path):
    config = _debug_world(emulator)
    process = run_cli_read(tmp_path, config, ["uis_calls"], "--debug", timeout=120)
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-2000:]
    assert '"type": "DEBUG"' in process.stdout or '"type":"DEBUG"' in process.stdout
    assert_no_secrets_in(process.stdout + process.stderr, config)
    assert len([line for line in process.stdout.splitlines() if line.startswith('{"type":"RECORD"')]) == ROWS["get.calls_report"]

"""CallKeeper REST API errors: a server error is retried; every documented error ends the sync once,
with its reason, in either error shape; the key is never printed."""

import pytest

from integration_tests.callkeeper.helpers import ck_config, vendor
from testkit.connector import run_read
from testkit.emulator.faults import Fault
from testkit.emulator.server import Response
from testkit.emulator.world import CALLKEEPER_API_KEY


def test_a_server_error_is_retried(emulator):
    emulator.faults.add(
        Fault(
            "callkeeper",
            "response",
            times=1,
            response=Response(503, b"<html>busy</html>", "text/html"),
            match=lambda r: r.path == "/getCallsInfo",
        )
    )
    output = run_read(ck_config(emulator, window_days=62), ["callkeeper_calls"])
    assert not output.errors
    assert len(output.records) == 1500
    assert [r.status for r in emulator.requests_to("callkeeper")].count(503) == 1
    assert len(emulator.requests_to("callkeeper")) == 2 + 1


KEY_HINT = "Check callkeeper.api_key."


ERROR_CASES = pytest.mark.parametrize(
    "setup,message,failure_type",
    [
        (
            lambda v, c: c["callkeeper"].update(api_key="1" * 32),
            f"CallKeeper: the API key was not accepted (Not the correct key api). {KEY_HINT}",
            "config_error",
        ),
        (
            lambda v, c: v.unknown_user_keys.add(CALLKEEPER_API_KEY),
            f"CallKeeper: the API key belongs to no known user (Unknown user). {KEY_HINT}",
            "config_error",
        ),
        (
            lambda v, c: c["callkeeper"].update(api_key="not-a-key"),
            "CallKeeper: the API key has the wrong format (Apiak or Hash shorter or longer then was required or not "
            "hexadecimal). Check callkeeper.api_key: it is the hexadecimal key from the Profile tab of the CallKeeper account.",
            "config_error",
        ),
        (
            lambda v, c: setattr(v, "host_allowed", False),
            "CallKeeper: requests from this host are not authorised (Unauthorized host!). Add the connector's host to the "
            "authorised hosts in the CallKeeper account (Profile), or turn the host check off there.",
            "config_error",
        ),
        (
            lambda v, c: setattr(v, "widget_disabled", True),
            "CallKeeper: the widget is disabled (The widget is disabled). Enable it in the CallKeeper account.",
            "config_error",
        ),
        (
            lambda v, c: setattr(v, "forced_error", "type"),
            "CallKeeper: the API rejected the request (Wrong data type!).",
            "system_error",
        ),
        (
            lambda v, c: setattr(v, "forced_error", "not_enough"),
            "CallKeeper: the API rejected the request (Not enough values).",
            "system_error",
        ),
        (
            lambda v, c: setattr(v, "forced_error", "mismatched"),
            "CallKeeper: the API rejected the request (Mismatched request!).",
            "system_error",
        ),
    ],
    ids=["403-key", "412-user", "417-format", "401-host", "710-widget", "406-type", "409-values", "404-request"],
)


@ERROR_CASES
def test_every_documented_error_ends_the_sync_with_its_reason(emulator, setup, message, failure_type):
    config = ck_config(emulator)
    setup(vendor(emulator), config)
    output = run_read(config, ["callkeeper_tap2calls"])  # getT2C: the key travels as `apiak`
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    assert stream_error.message == message
    assert stream_error.failure_type.value == final.failure_type.value == failure_type
    assert final.message == f"The sync did not finish. {message.rstrip('.')} (stream callkeeper_tap2calls)."
    assert output.records == []
    # Each failure is reported once, however many windows hit it; no traceback reaches the user.
    assert len([e for e in output.errors if e.trace.error.stream_descriptor]) == 1
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def test_errors_wrapped_in_an_array_read_the_same(emulator):
    """Published clients read errors as `[{"status":"fail","reason":...}]`: the same messages come out."""
    vendor(emulator).error_shape = "array"
    for setup, expected, failure_type in (
        (lambda: vendor(emulator).unknown_user_keys.add(CALLKEEPER_API_KEY), "(Unknown user)", "config_error"),
        (lambda: setattr(vendor(emulator), "forced_error", "not_enough"), "(Not enough values)", "system_error"),
    ):
        setup()
        error = run_read(ck_config(emulator), ["callkeeper_calls"]).errors[0].trace.error
        assert expected in error.message and error.failure_type.value == failure_type


def test_a_key_error_without_a_json_body_names_the_http_code(emulator):
    """A proxy or firewall may answer 403 with a page of its own: still a key problem, with the code for a reason."""
    emulator.faults.add(Fault("callkeeper", "response", times=-1, response=Response(403, b"<html>Forbidden</html>", "text/html")))
    error = run_read(ck_config(emulator), ["callkeeper_calls"]).errors[0].trace.error
    assert error.message == f"CallKeeper: the API key was not accepted (HTTP 403). {KEY_HINT}"
    assert error.failure_type.value == "config_error"


def test_the_key_never_appears_in_output_even_when_the_request_url_is_logged(emulator):
    """run_read scans every printed line for the key (raw and URL-encoded); make sure there was a URL to mask."""
    vendor(emulator).forced_error = "type"
    output = run_read(ck_config(emulator), ["callkeeper_calls", "callkeeper_tap2calls"])
    printed = "\n".join(str(m) for m in output._messages)
    assert "getCallsInfo" in printed and "getT2C" in printed
    assert CALLKEEPER_API_KEY not in printed

"""RIA.com errors: every documented error code ends the sync with its code and a hint; a 403 page that is
not JSON is a config error, not a retry; the key is never printed."""

import pytest

from integration_tests.ria.helpers import STREAM, ria_config, vendor
from testkit.connector import run_read
from testkit.emulator.faults import Fault
from testkit.emulator.world import RIA_API_KEY

KEY_HINT = "Check ria.api_key."


@pytest.mark.parametrize(
    "setup,message,failure_type",
    [
        (
            lambda v, c: c["ria"].update(api_key="wrongkey0123456789"),
            f"RIA.com: the API key was not accepted (API_KEY_INVALID: An invalid api_key was supplied. Get one at "
            f"https://developers.ria.com). {KEY_HINT}",
            "config_error",
        ),
        (
            lambda v, c: v.disabled_keys.add(RIA_API_KEY),
            f"RIA.com: the API key is disabled (API_KEY_DISABLED: The api_key supplied has been disabled. Contact us at "
            f"https://developers.ria.com/contact for assistance). {KEY_HINT}",
            "config_error",
        ),
        (
            lambda v, c: v.unverified_keys.add(RIA_API_KEY),
            f"RIA.com: the API key is not verified yet (API_KEY_UNVERIFIED: The api_key supplied has not been verified yet. "
            f"Please check your e-mail to verify the API key.). {KEY_HINT}",
            "config_error",
        ),
        (
            lambda v, c: v.unauthorized_keys.add(RIA_API_KEY),
            f"RIA.com: the API key is not authorised for this method (API_KEY_UNAUTHORIZED: The api_key supplied is not "
            f"authorized to access the given service. Contact us at https://developers.ria.com/contact for assistance). "
            f"{KEY_HINT}",
            "config_error",
        ),
        (
            lambda v, c: setattr(v, "https_required", True),
            "RIA.com: the API accepts only HTTPS (HTTPS_REQUIRED: Requests must be made over HTTPS. Try accessing the API at: "
            "https://developers.ria.com/auto/new/calls_stat). Use an https:// address in ria.base_url.",
            "config_error",
        ),
        (
            lambda v, c: c["ria"].update(base_url=c["ria"]["base_url"] + "v2/"),
            "RIA.com: the API rejected the request (NOT_FOUND: The requested URL was not found on this server.).",
            "system_error",
        ),
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

"""ckct.ru errors: a bad key, a method the key lacks and any other API error end the sync with one
plain message that names the provider and quotes the API; the key is never printed."""

import json

from integration_tests.calltracking.helpers import ckct
from integration_tests.helpers import run_cli_read
from testkit.connector import run_read
from testkit.emulator.world import CKCT_API_KEY, world_config


def test_a_bad_key_during_read_is_a_config_error_with_the_api_text(emulator, config):
    config["callkeeper_calltracking"]["api_key"] = "badbadbadbadbad0"
    output = run_read(config, ["calltracking_calls"])
    assert output.errors
    error = output.errors[-1].trace.error
    assert error.failure_type.value == "config_error"
    assert "CallKeeper call tracking" in error.message and "User is not recognized" in error.message
    assert not any("Traceback" in (m.log.message or "") for m in output.logs if m.log.level.value in ("INFO", "WARN"))


def test_a_method_the_key_lacks_is_a_config_error(emulator, config):
    ckct(emulator).disabled_methods = {"getWithRole"}
    output = run_read(config, ["calltracking_calls_with_role"])
    error = output.errors[-1].trace.error
    assert error.failure_type.value == "config_error"
    assert "Method does not exist" in error.message and "getWithRole" in error.message


def test_an_unexpected_api_error_is_reported_with_its_text(emulator, config):
    ckct(emulator).forced_error = "Entity does not exist"
    output = run_read(config, ["calltracking_calls"])
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    assert stream_error.failure_type.value == final.failure_type.value == "system_error"
    assert stream_error.message == "CallKeeper call tracking: the API rejected the request (Entity does not exist)."
    assert final.message == (
        "The sync did not finish. CallKeeper call tracking: the API rejected the request "
        "(Entity does not exist) (stream calltracking_calls)."
    )


def test_the_key_never_appears_in_output_even_in_debug_errors(emulator, config):
    """run_read scans every printed line for the key, raw and URL-encoded; make sure it had something to find."""
    ckct(emulator).forced_error = "Entity does not exist"
    output = run_read(config, ["calltracking_calls"])
    printed = "\n".join(str(m) for m in output._messages)
    assert "/call/get/" in printed  # the URL (which carries the key) was logged
    assert CKCT_API_KEY not in printed


def test_cli_read_with_a_bad_key_prints_one_plain_failure_and_exits_1(emulator, tmp_path):
    """The real command, as Airbyte and users run it: no traceback, no key, one sentence."""
    config = world_config(emulator)
    config["callkeeper_calltracking"]["api_key"] = "badbadbadbadbad0"
    proc = run_cli_read(tmp_path, config, ["calltracking_calls"], timeout=120)
    assert proc.returncode == 1
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything
    assert "badbadbadbadbad0" not in everything
    traces = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"type":"TRACE"')]
    final = traces[-1]["trace"]["error"]
    assert final["failure_type"] == "config_error"
    assert final["message"].startswith("The sync did not finish. CallKeeper call tracking: the API key was not recognized")
    assert final.get("stack_trace") is None

"""No credential ever leaves the process, even with --debug (which keeps stack traces, request
details and the CDK's debug logs): for every provider, `check --debug` and `read --debug` over all
its streams run through the real CLI in a subprocess, healthy and with an injected error, and all
of stdout and stderr is scanned for every credential, raw and URL-encoded (ckct puts its key in the
URL path, CallKeeper and RIA.com in the query string, UIS in the JSON body)."""

import json
import socket
import subprocess
import sys

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from testkit.connector import assert_no_secrets_in, catalog_for, connection_status, run_command, run_discover
from testkit.emulator.faults import Fault
from testkit.emulator.ria import error_response
from testkit.emulator.server import Response
from testkit.emulator.world import PROVIDERS, secrets_of, world_config

# A short period keeps the reads fast; every stream of the provider is still read.
PERIOD = dict(start_date="2024-04-01", end_date="2024-04-30", retry_backoff_seconds=0.1, request_timeout_seconds=5)

# An error each vendor answers with the real key in the request: the CDK logs that request's URL and body.
INJECTED = {
    "callkeeper_calltracking": lambda emulator: emulator.faults.add(
        Fault(
            "ckct", "response", times=-1, response=Response.json({"inbound": {"error": "User is not recognized"}, "payload": []})
        )
    ),
    "callkeeper": lambda emulator: emulator.faults.add(
        Fault(
            "callkeeper",
            "response",
            times=-1,
            response=Response.json({"status": "fail", "reason": "Not the correct key api"}, status=403),
        )
    ),
    "ria": lambda emulator: emulator.faults.add(Fault("ria", "response", times=-1, response=error_response("API_KEY_DISABLED"))),
    "uis": lambda emulator: emulator.vendors["uis"].inject("access_token_invalid", times=-1),
}


def cli(tmp_path, command, config, streams=None):
    """Run the CLI as users do; return everything it printed (stdout and stderr) and the exit code."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    args = [sys.executable, "-m", "source_calltracking.run", command, "--config", str(tmp_path / "config.json"), "--debug"]
    if streams:
        (tmp_path / "catalog.json").write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog_for(streams))))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=240)
    return done.stdout + "\n" + done.stderr, done.returncode


def check_debug(tmp_path, config):
    """`check --debug` in-process, exactly as the CLI runs it; `run_command` scans its output (log
    lines included) for the credentials itself."""
    (tmp_path / "check_config.json").write_text(json.dumps(config))
    return connection_status(run_command(["check", "--config", str(tmp_path / "check_config.json"), "--debug"], config))


def provider_streams(config):
    return sorted(s.name for s in run_discover(config).catalog.catalog.streams)


def assert_clean(printed, config):
    assert secrets_of(config), "nothing to look for"
    assert_no_secrets_in(printed, config)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_debug_output_of_a_healthy_check_and_read_holds_no_credential(emulator, tmp_path, provider):
    config = world_config(emulator, [provider], **PERIOD)
    streams = provider_streams(config)
    assert check_debug(tmp_path, config).status.value == "SUCCEEDED"
    printed, code = cli(tmp_path, "read", config, streams)
    assert code == 0, printed[-3000:]
    assert '"type":"RECORD"' in printed and "Debug logs enabled" in printed
    assert_clean(printed, config)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_debug_output_of_a_failing_check_and_read_holds_no_credential(emulator, tmp_path, provider):
    config = world_config(emulator, [provider], **PERIOD)
    streams = provider_streams(config)
    INJECTED[provider](emulator)
    status = check_debug(tmp_path, config)
    assert status.status.value == "FAILED" and status.message.startswith(("CallKeeper", "RIA.com", "UIS")), status.message
    printed, code = cli(tmp_path, "read", config, streams)
    assert code == 1, printed[-3000:]
    assert "Traceback (most recent call last)" in printed  # --debug keeps the stack traces...
    assert "****" in printed  # ...and the request URLs or bodies, with the credential masked
    assert_clean(printed, config)


def test_debug_output_when_no_provider_is_reachable_holds_no_credential(emulator, tmp_path):
    """A connection refused: requests' error text carries the whole URL (path and query string)."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = world_config(emulator, **PERIOD)
    config["callkeeper_calltracking"]["base_url"] = closed + "/ckct/api/"
    config["callkeeper"]["base_url"] = closed + "/callkeeper/"
    config["ria"]["base_url"] = closed + "/ria/"
    config["uis"]["base_url"] = closed + "/uis"
    streams = ["calltracking_calls", "callkeeper_calls", "ria_calls", "uis_calls"]
    printed, code = cli(tmp_path, "read", config, streams)
    assert code == 1 and "Connection refused" in printed, printed[-3000:]
    assert_clean(printed, config)

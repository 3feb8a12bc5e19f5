"""CallKeeper call tracking (ckct.ru) against its emulator: check and discover."""

from airbyte_cdk.models import Status

from integration_tests.calltracking.helpers import STREAMS
from testkit.connector import connection_status, run_check, run_discover
from testkit.emulator.world import world_config


def test_check_succeeds_with_a_valid_key(config):
    status = connection_status(run_check(config))
    assert status.status == Status.SUCCEEDED


def test_check_names_the_provider_and_the_cause_for_a_bad_key(emulator):
    config = world_config(emulator)
    config["callkeeper_calltracking"]["api_key"] = "0000000000000000"
    status = connection_status(run_check(config))
    assert status.status == Status.FAILED
    assert status.message.startswith("CallKeeper call tracking: the API key was not recognized (User is not recognized)")


def test_check_without_any_provider_says_what_to_add(emulator):
    status = connection_status(run_check({"start_date": "2024-01-01"}))
    assert status.status == Status.FAILED
    assert "No provider is configured" in status.message and "callkeeper_calltracking" in status.message


def test_discover_offers_the_role_stream_only_with_a_role_key(emulator):
    config = world_config(emulator, ["callkeeper_calltracking"])
    names = {s.name for s in run_discover(config).catalog.catalog.streams}
    assert names == set(STREAMS)
    del config["callkeeper_calltracking"]["role_api_key"]
    names = {s.name for s in run_discover(config).catalog.catalog.streams}
    assert names == {"calltracking_calls", "calltracking_calls_with_role"}


def test_discover_declares_keys_cursor_and_modes(config):
    streams = {s.name: s for s in run_discover(config).catalog.catalog.streams}
    for name in STREAMS:
        stream = streams[name]
        assert stream.source_defined_primary_key == [["record_id"]]
        assert stream.default_cursor_field == ["call_datetime"]
        assert {m.value for m in stream.supported_sync_modes} == {"full_refresh", "incremental"}

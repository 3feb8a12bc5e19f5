"""CallKeeper REST API (api.callkeeper.ru) against its emulator: check and discover."""

from airbyte_cdk.models import Status

from integration_tests.callkeeper.helpers import ALL_STREAMS, WINDOWED, ck_config, params_of
from testkit.connector import connection_status, run_check, run_discover
from testkit.emulator.world import CALLKEEPER_API_KEY


def test_check_reads_the_user_once(emulator):
    status = connection_status(run_check(ck_config(emulator)))
    assert status.status == Status.SUCCEEDED
    requests = emulator.requests_to("callkeeper")
    assert [r.path for r in requests] == ["/getUserInfo"]
    assert params_of(requests[0]) == {"api_key": CALLKEEPER_API_KEY}


def test_check_with_a_bad_key_names_the_provider_and_the_cause(emulator):
    config = ck_config(emulator, api_key="0" * 32)
    status = connection_status(run_check(config))
    assert status.status == Status.FAILED
    assert status.message == "CallKeeper: the API key was not accepted (Not the correct key api). Check callkeeper.api_key."


def test_discover_offers_calls_by_status_only_with_statuses(emulator):
    config = ck_config(emulator)
    streams = {s.name: s for s in run_discover(config).catalog.catalog.streams}
    assert set(streams) == set(ALL_STREAMS)
    for name in WINDOWED:
        assert streams[name].source_defined_primary_key == [["id"]]
        assert streams[name].default_cursor_field == ["date"]
        assert {m.value for m in streams[name].supported_sync_modes} == {"full_refresh", "incremental"}
    assert {m.value for m in streams["callkeeper_user"].supported_sync_modes} == {"full_refresh"}
    del config["callkeeper"]["statuses"]
    assert {s.name for s in run_discover(config).catalog.catalog.streams} == set(ALL_STREAMS) - {"callkeeper_calls_by_status"}

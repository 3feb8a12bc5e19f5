"""CallKeeper call tracking (ckct.ru) against its emulator: pages, windows, shapes, errors, state."""

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
from airbyte_cdk.models import Status, SyncMode

from testkit.emulator.world import CKCT_API_KEY, world_config
from testkit.connector import (
    connection_status,
    error_messages,
    final_state,
    records_by_stream,
    run_check,
    run_discover,
    run_read,
    state_for,
)

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
STREAMS = ["calltracking_calls", "calltracking_calls_by_role", "calltracking_calls_with_role"]


def ckct(emulator):
    return emulator.vendors["ckct"]


def held_ids(emulator, stream, since="2024-01-01", until="2024-04-30T23:59:59"):
    vendor = ckct(emulator)
    account = vendor.accounts[0]
    timelines = {"calltracking_calls": [account.own], "calltracking_calls_by_role": [account.by_role],
                 "calltracking_calls_with_role": [account.own, account.by_role]}[stream]
    return [i for t in timelines for i in vendor.call_ids(t, since, until)]


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


@pytest.mark.parametrize("response_shape", ["envelope", "array"])
@pytest.mark.parametrize("record_shapes", ["new", "old", "mixed"])
def test_full_refresh_reads_every_call_once_in_every_shape(world_with, response_shape, record_shapes):
    emulator = world_with(ckct_response_shape=response_shape, ckct_record_shapes=record_shapes)
    output = run_read(world_config(emulator), STREAMS, sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    for stream in STREAMS:
        ids = [r["record_id"] for r in got[stream]]
        assert len(ids) == len(set(ids)), f"{stream}: duplicates"
        assert sorted(ids) == sorted(held_ids(emulator, stream)), f"{stream}: not what the API holds"
        validator = jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{stream}.json").read_text()))
        for record in got[stream]:
            validator.validate(record)
            assert record["call_datetime"] and record["call_datetime"] >= "2024-01-01"


def test_pages_and_windows_cost_the_minimum_of_requests(emulator, config):
    """With page counters, a window costs ceil(calls / page length) requests (one for an empty
    window); without them, one more, the request that finds the end. Never more than that."""
    config["callkeeper_calltracking"]["window_days"] = 45
    output = run_read(config, ["calltracking_calls"])
    assert len(output.records) == 2500
    requests = emulator.requests_to("ckct", "/call/get/")
    windows = {}
    for r in requests:
        parts = r.query.split("/")
        windows.setdefault((parts[6], parts[7]), []).append(int(parts[5]))
    assert len(windows) == 3  # 121 days in windows of 45
    account = ckct(emulator).accounts[0]
    variation = emulator.variation
    for (since, until), pages in windows.items():
        lo, hi = account.own.index_range(dt.datetime.fromtimestamp(int(since), dt.timezone.utc),
                                         dt.datetime.fromtimestamp(int(until), dt.timezone.utc))
        full_pages = -(-(hi - lo) // variation.ckct_page_length)
        with_counters = variation.ckct_response_shape == "envelope" and variation.ckct_counters != "none"
        expected = max(1, full_pages if with_counters else full_pages + 1)
        assert sorted(pages) == list(range(expected)), (since, until, pages, variation.describe())


def test_window_edges_lose_and_duplicate_nothing(emulator, config):
    """Calls exactly on window boundaries belong to one window only."""
    config["callkeeper_calltracking"]["window_days"] = 1
    output = run_read(config, ["calltracking_calls"], sync_mode=SyncMode.full_refresh)
    ids = [r.record.data["record_id"] for r in output.records]
    assert len(ids) == len(set(ids)) == len(held_ids(emulator, "calltracking_calls"))


def test_no_rows_found_is_an_empty_period_not_an_error(emulator):
    config = world_config(emulator, start_date="2023-01-01", end_date="2023-06-30")
    output = run_read(config, ["calltracking_calls"])
    assert not output.errors
    assert output.records == []


def test_incremental_round_trip_returns_new_calls_and_the_lookback(emulator):
    config = world_config(emulator)
    del config["end_date"]
    account = ckct(emulator).accounts[0]
    first = run_read(config, ["calltracking_calls"])
    assert len(first.records) == account.own.count
    state = final_state(first, "calltracking_calls")
    assert state["call_datetime"] == account.own.last_time.strftime("%Y-%m-%d %H:%M:%S")

    account.own.count += 300  # new calls arrive after the first sync
    second = run_read(config, ["calltracking_calls"], state=state_for({"calltracking_calls": state}))
    assert not second.errors
    got = sorted(r.record.data["record_id"] for r in second.records)
    cursor = dt.datetime.strptime(state["call_datetime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    expected = ckct(emulator).call_ids(account.own, (cursor - dt.timedelta(days=1)).isoformat(), "2100-01-01")
    assert got == sorted(expected)
    assert final_state(second, "calltracking_calls")["call_datetime"] == account.own.last_time.strftime("%Y-%m-%d %H:%M:%S")


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
    assert final.message == ("The sync did not finish. CallKeeper call tracking: the API rejected the request "
                             "(Entity does not exist) (stream calltracking_calls).")


def test_the_key_never_appears_in_output_even_in_debug_errors(emulator, config):
    """run_read scans every printed line for the key, raw and URL-encoded; make sure it had something to find."""
    ckct(emulator).forced_error = "Entity does not exist"
    output = run_read(config, ["calltracking_calls"])
    printed = "\n".join(str(m) for m in output._messages)
    assert "/call/get/" in printed  # the URL (which carries the key) was logged
    assert CKCT_API_KEY not in printed


def test_cli_read_with_a_bad_key_prints_one_plain_failure_and_exits_1(emulator, tmp_path):
    """The real command, as Airbyte and users run it: no traceback, no key, one sentence."""
    import subprocess
    import sys

    config = world_config(emulator)
    config["callkeeper_calltracking"]["api_key"] = "badbadbadbadbad0"
    (tmp_path / "config.json").write_text(json.dumps(config))
    from testkit.connector import catalog_for
    from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

    (tmp_path / "catalog.json").write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog_for(["calltracking_calls"]))))
    proc = subprocess.run([sys.executable, "-m", "source_calltracking.run", "read", "--config", str(tmp_path / "config.json"),
                           "--catalog", str(tmp_path / "catalog.json")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything
    assert "badbadbadbadbad0" not in everything
    traces = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"type":"TRACE"')]
    final = traces[-1]["trace"]["error"]
    assert final["failure_type"] == "config_error"
    assert final["message"].startswith("The sync did not finish. CallKeeper call tracking: the API key was not recognized")
    assert final.get("stack_trace") is None

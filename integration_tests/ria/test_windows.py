"""RIA.com date windows: one request per window of whole days, meeting day to day without duplicates;
an empty period, or another account's user_id, reads nothing and is no error."""

import datetime as dt
import json

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.helpers import SCHEMAS
from integration_tests.ria.helpers import STREAM, ids, ria_config, vendor, windows
from testkit.connector import error_messages, final_state, records_by_stream, run_read

SCHEMA = SCHEMAS / "ria_calls.json"


def assert_days_meet(spans, first_day, last_day):
    """Windows cover [first_day, last_day] day by day: no overlap, no gap."""
    assert spans[0][0] == first_day and spans[-1][1] == last_day
    for (_, previous_end), (next_start, _) in zip(spans, spans[1:]):
        assert dt.date.fromisoformat(next_start) == dt.date.fromisoformat(previous_end) + dt.timedelta(days=1)
    for start, end in spans:
        assert start <= end


def test_a_sync_spends_exactly_one_request_per_month_window(emulator):
    output = run_read(ria_config(emulator), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = ids(output)
    assert got == vendor(emulator).call_ids("2024-01-01", "2024-04-30") and len(got) == 1200
    assert windows(emulator) == [("2024-01-01", "2024-01-31"), ("2024-02-01", "2024-03-02"),
                                 ("2024-03-03", "2024-04-02"), ("2024-04-03", "2024-04-30")]
    assert len(emulator.requests_to("ria")) == 4
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    for record in records_by_stream(output)[STREAM]:
        validator.validate(record)
    statuses = {r.record.data["status"] for r in output.records}
    assert {"ANSWER", "NOANSWER", "CANCEL", "BUSY", "BYSY", "FAILED", "CONGESTION"} == statuses


@pytest.mark.parametrize("window_days,requests", [(10, 13), (1, 20)])
def test_windows_of_any_length_meet_day_to_day_without_duplicates(emulator, window_days, requests):
    config = ria_config(emulator, window_days=window_days)
    config["end_date"] = "2024-04-30" if window_days > 1 else "2024-01-20"
    output = run_read(config, [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    assert len(emulator.requests_to("ria")) == requests
    assert_days_meet(windows(emulator), "2024-01-01", config["end_date"])
    got = ids(output)
    assert got == sorted(set(got)) == vendor(emulator).call_ids("2024-01-01", config["end_date"])


def test_a_start_date_with_a_time_still_reads_whole_days(emulator):
    config = ria_config(emulator)
    config.update(start_date="2024-02-10T15:00:00Z", end_date="2024-02-20T08:00:00Z")
    run_read(config, [STREAM])
    assert windows(emulator) == [("2024-02-10", "2024-02-20")]


def test_a_period_without_calls_is_empty_not_an_error(emulator):
    config = ria_config(emulator)
    config.update(start_date="2023-01-01", end_date="2023-03-31")
    output = run_read(config, [STREAM])
    assert not output.errors
    assert output.records == []
    assert len(emulator.requests_to("ria")) == 3
    assert final_state(output, STREAM)


def test_a_user_id_of_another_account_reads_nothing(emulator):
    output = run_read(ria_config(emulator, user_id="42"), [STREAM])
    assert not output.errors
    assert output.records == []

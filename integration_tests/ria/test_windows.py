"""RIA.com date windows: one request per window, windows of UTC instants meeting to the second, each
asked as the Kyiv days it touches and one more at each end, and exactly the calls of the windows read
(no duplicate where the requests' days overlap, none lost); an empty period, or another account's
user_id, reads nothing and is no error."""

import json

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.helpers import SCHEMAS
from integration_tests.ria.helpers import (
    SECOND,
    STREAM,
    config_bound,
    ids,
    request_days,
    ria_config,
    truth_of_windows,
    utc_windows,
    vendor,
    windows,
)
from testkit.connector import error_messages, final_state, records_by_stream, run_read

SCHEMA = SCHEMAS / "ria_calls.json"


def assert_windows_meet(spans, config):
    """The windows cover [start_date, end_date] second by second: no overlap, no gap."""
    assert spans[0][0] == config_bound(config["start_date"]) and spans[-1][1] == config_bound(config["end_date"], end=True)
    for (_, previous_last), (next_first, _) in zip(spans, spans[1:], strict=False):
        assert next_first == previous_last + SECOND
    for first, last in spans:
        assert first <= last


def assert_exactly_the_calls_of(output, emulator, spans):
    """Every call of the windows once, and nothing of the extra days the requests asked for."""
    got = ids(output)
    assert got == sorted(set(got)) == sorted(truth_of_windows(emulator, spans))
    times = truth_of_windows(emulator, spans)
    assert all(r.record.data["event_time_utc"] == times[r.record.data["call_id"]] for r in output.records)


def test_a_sync_spends_exactly_one_request_per_month_window(emulator):
    config = ria_config(emulator)
    output = run_read(config, [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    spans = utc_windows(config)
    assert len(spans) == 4  # 2024-01-01 .. 2024-04-30 in windows of 31 days
    assert_windows_meet(spans, config)
    # One request per window, asked one Kyiv day wider at each end: neighbours' days overlap ...
    assert len(emulator.requests_to("ria")) == len(spans)
    assert windows(emulator) == sorted(request_days(w) for w in spans)
    assert windows(emulator)[0] == ("2023-12-31", "2024-02-02")
    # ... yet each call arrives once: the calls of the window itself are kept.
    assert_exactly_the_calls_of(output, emulator, spans)
    assert ids(output) == vendor(emulator).call_ids("2024-01-01", "2024-04-30") and len(output.records) == 1200
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
    spans = utc_windows(config)
    assert len(spans) == len(emulator.requests_to("ria")) == requests
    assert_windows_meet(spans, config)
    assert windows(emulator) == sorted(request_days(w) for w in spans)
    assert_exactly_the_calls_of(output, emulator, spans)
    assert ids(output) == vendor(emulator).call_ids("2024-01-01", config["end_date"])


def test_a_start_date_with_a_time_asks_whole_days_and_keeps_the_calls_of_its_instants(emulator):
    config = ria_config(emulator)
    config.update(start_date="2024-02-10T15:00:00Z", end_date="2024-02-20T08:00:00Z")
    output = run_read(config, [STREAM])
    assert not output.errors, error_messages(output)
    # 15:00Z is 17:00 in Kyiv (EET) on 10 February, 08:00Z is 10:00 on the 20th: a day wider each end.
    assert windows(emulator) == [("2024-02-09", "2024-02-21")] == [request_days(w) for w in utc_windows(config)]
    assert_exactly_the_calls_of(output, emulator, utc_windows(config))
    asked = set(vendor(emulator).call_ids("2024-02-09", "2024-02-21"))
    assert len(asked) > len(output.records) > 0  # the days asked hold more calls than the window: those were left out


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

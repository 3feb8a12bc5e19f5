"""UIS paging: every window checked against `metadata.total_items`, read again once when it comes up short."""

import json

from airbyte_cdk.models import SyncMode

from testkit.emulator.faults import Fault
from testkit.emulator.world import world_config
from testkit.connector import error_messages, final_state, records_by_stream, run_read, state_for

STREAM, METHOD = "uis_calls", "get.calls_report"
# Three windows of 89 days: 2024-01-01..03-29, 03-30..06-26, 06-27..06-30.
CONFIG = dict(start_date="2024-01-01", end_date="2024-06-30")


def ids(output):
    return [r["id"] for r in records_by_stream(output).get(STREAM, [])]


def held(emulator, since="2024-01-01", until="2024-06-30T23:59:59"):
    return emulator.vendors["uis"].ids(METHOD, since, until)


def to_window(date_from):
    """Matches the calls_report requests of the window that starts at `date_from`."""
    def match(request):
        body = json.loads(request.body or b"{}")
        return body.get("method") == METHOD and body.get("params", {}).get("date_from") == date_from
    return match


def logs(output, text):
    return [m.log.message for m in output.logs if text in m.log.message]


def test_each_window_is_logged_with_its_rows_and_the_api_total(emulator):
    output = run_read(world_config(emulator, ["uis"], **CONFIG), [STREAM])
    assert not output.errors, error_messages(output)
    first = len(held(emulator, until="2024-03-29T23:59:59"))
    lines = logs(output, "UIS: stream uis_calls, window ")
    assert f"UIS: stream uis_calls, window 2024-01-01 00:00:00 to 2024-03-29 23:59:59 UTC: {first} rows, API total {first}." in lines
    assert len(lines) == 3


def test_a_window_that_comes_up_short_once_is_read_again_without_duplicates(emulator):
    fault = emulator.faults.add(Fault("uis", "short", times=1, match=to_window("2024-01-01 00:00:00")))
    output = run_read(world_config(emulator, ["uis"], **CONFIG), [STREAM], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    assert fault.times == 0
    got = ids(output)
    assert sorted(got) == held(emulator) and len(got) == len(set(got))
    first = len(held(emulator, until="2024-03-29T23:59:59"))
    assert logs(output, "once more") == [
        f"UIS: stream uis_calls, window 2024-01-01 00:00:00 to 2024-03-29 23:59:59 UTC: the API reported {first} rows "
        f"but sent {first - 1} (1 of them sent twice); reading the window once more."]
    # The short page, the page at the next offset (which repeats a row), the window once more, and
    # one page for each of the other two windows: nothing else was asked.
    assert len([b for b in emulator.vendors["uis"].log if b.get("method") == METHOD]) == 5


def test_a_window_that_stays_short_stops_the_stream_and_keeps_the_state_before_it(emulator):
    config = world_config(emulator, ["uis"], **CONFIG)
    emulator.faults.add(Fault("uis", "short", times=-1, match=to_window("2024-03-30 00:00:00")))
    first = run_read(config, [STREAM])
    errors = [e.trace.error for e in first.errors if e.trace.error.stream_descriptor]
    assert len(errors) == 1, error_messages(first)
    in_window = len(held(emulator, "2024-03-30", "2024-06-26T23:59:59"))
    assert errors[0].failure_type.value == "system_error"
    assert errors[0].message == (
        f"UIS: stream uis_calls, window 2024-03-30 00:00:00 to 2024-06-26 23:59:59 UTC: the API reported {in_window} rows "
        f"but sent {in_window - 1}, on two reads. The stream stopped so that no rows are lost without a word; the state "
        "is kept from before this window, and the next sync reads it again.")
    state = final_state(first, STREAM)
    assert state["start_time"] <= "2024-03-29 23:59:59"
    emulator.faults.clear()
    second = run_read(config, [STREAM], state=state_for({STREAM: state}))
    assert not second.errors, error_messages(second)
    assert set(ids(first)) | set(ids(second)) == set(held(emulator))

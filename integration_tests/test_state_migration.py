"""A state written by version 0.1.1 (unit_tests/resources/state_0.1.1.json, a sync of every provider to
2024-02-29 by main before 0.2.0), read through the whole connector: each stream reads exactly the records
after its old cursor, minus the lookback, by the emulator's truth (no loss, no full re-read), and emits
state of the new shape. unit_tests/test_state_migrations.py tests the migrations one by one.

What each old cursor means in 0.2.0 (docs, changelog 0.2.0):
- ckct.ru `call_datetime` and CallKeeper `date`: UTC, kept as they are;
- RIA.com `date`, a day D: from 00:00 of D in Europe/Kyiv (`ria.time_zone`), as `event_time_utc`;
- UIS local times, whose zone 0.1.x did not know: read as UTC and moved back 14 hours (no zone is
  further ahead), as `event_time_utc`; so a few hours more are read, never fewer;
- UIS `uis_financial_summary` keeps its `date` (a day); it reads whole months again from the cursor's month.
The lookback (`lookback_window_days`, 1) comes off every cursor."""

import datetime as dt
import json
from pathlib import Path

import pytest
from airbyte_cdk.models import AirbyteStateMessageSerializer

from integration_tests.helpers import Read, sent_without_time
from testkit.connector import error_messages, final_state, records_by_stream, run_read
from testkit.emulator.world import CALLKEEPER_API_KEY, CALLKEEPER_STATUSES, CKCT_API_KEY, RIA_API_KEY, build_world, world_config

STATE_FILE = Path(__file__).resolve().parent.parent / "unit_tests" / "resources" / "state_0.1.1.json"
UNTIL = "2024-05-01T00:00:00Z"  # end_date 2024-04-30 includes that whole day
LOOKBACK = dt.timedelta(days=1)
MARGIN = dt.timedelta(hours=14)
UTC = dt.UTC
FMT = "%Y-%m-%d %H:%M:%S"
CKCT = {"calltracking_calls": "get", "calltracking_calls_by_role": "getByRole", "calltracking_calls_with_role": "getWithRole"}
CALLKEEPER = {
    "callkeeper_calls": "getCallsInfo",
    "callkeeper_completed_calls": "getCallsCompleted",
    "callkeeper_calls_by_status": "getCallsByStatus",
    "callkeeper_tap2calls": "getT2C",
}
UIS = {
    "uis_communications": ("get.communications_report", "date_time", "id"),
    "uis_calls": ("get.calls_report", "start_time", "id"),
    "uis_call_legs": ("get.call_legs_report", "start_time", "id"),
    "uis_goals": ("get.goals_report", "date_time", "id"),
    "uis_chats": ("get.chats_report", "date_time", "id"),
    "uis_offline_messages": ("get.offline_messages_report", "date_time", "id"),
    "uis_visitor_sessions": ("get.visitor_sessions_report", "date_time", "id"),
    "uis_financial_call_legs": ("get.financial_call_legs_report", "start_time", "leg_id"),
}


def old_states():
    messages = json.loads(STATE_FILE.read_text())
    return messages, {m["stream"]["stream_descriptor"]["name"]: m["stream"]["stream_state"] for m in messages}


def z(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_utc(text):
    return dt.datetime.strptime(text, FMT).replace(tzinfo=UTC)


def uis_since(old_local):
    """A 0.1.x UIS cursor: a local time of an unknown zone, read as UTC, minus 14 hours, minus the lookback."""
    return as_utc(old_local) - MARGIN - LOOKBACK


@pytest.fixture(scope="module")
def migrated_sync():
    """One sync of every stream of the file from its state, shared by the tests of this module."""
    messages, _ = old_states()
    with build_world() as emulator:
        config = world_config(emulator)
        output = run_read(
            config,
            [m["stream"]["stream_descriptor"]["name"] for m in messages],
            state=[AirbyteStateMessageSerializer.load(m) for m in messages],
        )
        yield emulator, output


def read(output, stream, key):
    found = Read()
    for record in records_by_stream(output).get(stream, []):
        value = key(record)
        assert value not in found, f"{stream}: {value} came twice"
        found[value] = record.get("event_time_utc")
        if "record_id" in record and sent_without_time(record):
            found.untimed.add(value)
    return found


def test_the_state_file_holds_every_dated_stream_in_the_old_shape():
    _, states = old_states()
    assert set(CKCT) | set(CALLKEEPER) | {"ria_calls"} | set(UIS) | {"uis_chat_messages", "uis_financial_summary"} == set(states)
    assert states["ria_calls"] == {"date": "2024-02-29"}
    assert all(set(states[s]) == {old} for s, (_, old, _) in UIS.items())


def test_the_sync_from_the_old_state_ends_without_errors(migrated_sync):
    _, output = migrated_sync
    assert not error_messages(output)


@pytest.mark.parametrize("stream", list(CKCT))
def test_ckct_reads_from_its_utc_cursor_minus_the_lookback(migrated_sync, stream):
    emulator, output = migrated_sync
    _, states = old_states()
    cursor = as_utc(states[stream]["call_datetime"])
    expected = emulator.vendors["ckct"].expected(CKCT_API_KEY, CKCT[stream], cursor - LOOKBACK, UNTIL)
    got = read(output, stream, lambda r: r["record_id"])
    assert expected and got == expected
    assert final_state(output, stream) == {"call_datetime": max(got.values()).replace("T", " ").rstrip("Z")}


@pytest.mark.parametrize("stream", list(CALLKEEPER))
def test_callkeeper_reads_from_its_utc_cursor_minus_the_lookback(migrated_sync, stream):
    emulator, output = migrated_sync
    _, states = old_states()
    cursor = as_utc(states[stream]["date"])
    statuses = CALLKEEPER_STATUSES if stream == "callkeeper_calls_by_status" else ()
    expected = emulator.vendors["callkeeper"].expected(CALLKEEPER_API_KEY, CALLKEEPER[stream], cursor - LOOKBACK, UNTIL, statuses)
    assert expected and read(output, stream, lambda r: int(r["id"])) == expected
    assert final_state(output, stream) == {"date": max(expected.values()).replace("T", " ").rstrip("Z")}


def test_ria_reads_from_the_first_kyiv_moment_of_its_old_day_minus_the_lookback(migrated_sync):
    emulator, output = migrated_sync
    since = dt.datetime(2024, 2, 28, 22, 0, tzinfo=UTC) - LOOKBACK  # 29 February 00:00 in Kyiv (EET, UTC+2)
    expected = emulator.vendors["ria"].expected(RIA_API_KEY, since, UNTIL)
    assert expected and read(output, "ria_calls", lambda r: r["call_id"]) == expected
    assert final_state(output, "ria_calls") == {"event_time_utc": max(expected.values())}


@pytest.mark.parametrize("stream", list(UIS))
def test_uis_reads_from_its_old_local_time_moved_back_by_the_widest_offset_minus_the_lookback(migrated_sync, stream):
    emulator, output = migrated_sync
    _, states = old_states()
    method, old_field, key = UIS[stream]
    uis = emulator.vendors["uis"]
    since = uis_since(states[stream][old_field])
    expected = uis.expected(method, since, UNTIL)
    assert expected and read(output, stream, lambda r: r[key]) == expected
    assert final_state(output, stream) == {"event_time_utc": max(expected.values())}
    # No loss: the old cursor, in the account's true zone, is later than where the read began.
    true_cursor = dt.datetime.strptime(states[stream][old_field], FMT).replace(tzinfo=uis.client(None).zone)
    assert since <= true_cursor - LOOKBACK


def test_uis_chat_messages_read_the_chats_after_the_migrated_parent_cursor(migrated_sync):
    emulator, output = migrated_sync
    _, states = old_states()
    old = states["uis_chat_messages"]
    uis = emulator.vendors["uis"]
    client = uis.client(None)
    chats_since = uis_since(old["parent_state"]["uis_chats"]["date_time"])
    messages_since = uis_since(old["state"]["date_time"])
    expected = {}
    for chat_id in uis.expected("get.chats_report", chats_since, UNTIL):
        for message in uis.chat_messages(chat_id):
            moment = dt.datetime.strptime(message["date_time"], FMT).replace(tzinfo=client.zone)
            if moment >= messages_since:
                expected[(message["chat_id"], message["text"])] = z(moment)
    assert expected and read(output, "uis_chat_messages", lambda r: (r["chat_id"], r["text"])) == expected
    state = final_state(output, "uis_chat_messages")
    assert state["state"] == {"event_time_utc": max(expected.values())}
    last_chat = max(uis.expected("get.chats_report", chats_since, UNTIL).values())
    assert state["parent_state"] == {"uis_chats": {"event_time_utc": last_chat}}
    assert "date_time" not in json.dumps(state)


def test_uis_financial_summary_reads_every_day_of_the_months_from_its_cursors_month(migrated_sync):
    emulator, output = migrated_sync
    _, states = old_states()
    month_start = dt.date.fromisoformat(states["uis_financial_summary"]["date"]).replace(day=1)
    first, last = emulator.vendors["uis"].client(None).financial_days
    expected = [
        (month_start + dt.timedelta(days=n)).isoformat()
        for n in range((last - month_start).days + 1)
        if month_start + dt.timedelta(days=n) >= first
    ]
    got = sorted(r["date"] for r in records_by_stream(output)["uis_financial_summary"])
    assert got == expected  # every day once: the 1st of each month too, whatever the account's zone
    months = sorted(
        (b["params"]["year"], b["params"]["month"])
        for b in emulator.vendors["uis"].log
        if b.get("method") == "get.financial_summary_report"
    )
    assert months == [(2024, 2), (2024, 3), (2024, 4)]
    assert final_state(output, "uis_financial_summary") == {"date": last.isoformat()}

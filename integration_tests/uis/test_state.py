"""UIS incremental syncs: new rows and the lookback; chat messages follow their parent's window; the
financial summary reads its cursor's month again."""

import datetime as dt
import json

from integration_tests.uis.helpers import FMT, STATE_FMT, bodies, uis, uis_config, utc_window_of
from testkit.connector import error_messages, final_state, run_read, state_for
from testkit.emulator.timeline import iso_z, parse_utc


def test_incremental_round_trip_reads_new_rows_and_the_lookback(emulator):
    vendor = uis(emulator)
    config = uis_config(emulator)
    del config["end_date"]
    timeline = vendor.timelines["get.calls_report"]
    first = run_read(config, ["uis_calls"])
    assert not first.errors, error_messages(first)
    assert len(first.records) == timeline.count
    state = final_state(first, "uis_calls")
    assert state == {"event_time_utc": iso_z(timeline.last_time)}  # since 0.2.0 the cursor is the UTC instant

    timeline.count += 250  # new calls after the first sync
    vendor.log.clear()
    second = run_read(config, ["uis_calls"], state=state_for({"uis_calls": state}))
    assert not second.errors, error_messages(second)
    cursor = parse_utc(state["event_time_utc"])
    expected = vendor.ids("get.calls_report", (cursor - dt.timedelta(days=1)).isoformat(), "2100-01-01")
    assert sorted(r.record.data["id"] for r in second.records) == sorted(expected)
    assert final_state(second, "uis_calls")["event_time_utc"] == timeline.last_time.strftime(STATE_FMT)
    assert len(bodies(emulator, "get.account")) == 1
    assert min(utc_window_of(emulator, b)[0] for b in bodies(emulator, "get.calls_report")) == (
        cursor - dt.timedelta(days=1)
    ).replace(tzinfo=None)


def test_chat_messages_follow_the_window_of_their_parent(emulator):
    vendor = uis(emulator)
    config = uis_config(emulator)
    del config["end_date"]
    first = run_read(config, ["uis_chat_messages"])
    assert not first.errors, error_messages(first)
    state = final_state(first, "uis_chat_messages")
    assert "uis_chats" in json.dumps(state["parent_state"])

    chats = vendor.timelines["get.chats_report"]
    chats.count += 20  # new chats
    vendor.log.clear()
    second = run_read(config, ["uis_chat_messages"], state=state_for({"uis_chat_messages": state}))
    assert not second.errors, error_messages(second)
    asked = {b["params"]["chat_id"] for b in bodies(emulator, "get.chat_messages_report")}
    # Only the chats of the parent's new window (its saved cursor minus the lookback), with all their messages.
    since = parse_utc(chats.time_of(chats.count - 21).strftime(FMT)) - dt.timedelta(days=1)
    assert asked == set(vendor.chat_ids(since.isoformat(), "2100-01-01"))
    assert len(asked) < chats.count
    got = sorted((r.record.data["chat_id"], r.record.data["text"]) for r in second.records)
    assert got == sorted((m["chat_id"], m["text"]) for c in asked for m in vendor.chat_messages(c))


def test_financial_summary_reads_the_month_of_its_cursor_again(emulator):
    vendor = uis(emulator)
    # East of UTC, a month's first day starts the day before in UTC: every day must still be kept.
    vendor.home.timezone = "Europe/Moscow"
    config = uis_config(emulator, end_date="2024-03-15")
    vendor.financial_days = (dt.date(2024, 1, 1), dt.date(2024, 3, 15))
    first = run_read(config, ["uis_financial_summary"])
    assert final_state(first, "uis_financial_summary")["date"] == "2024-03-15"
    vendor.financial_days = (dt.date(2024, 1, 1), dt.date(2024, 4, 10))  # March completed, April started
    vendor.log.clear()
    second = run_read(
        uis_config(emulator, end_date="2024-04-10"),
        ["uis_financial_summary"],
        state=state_for({"uis_financial_summary": final_state(first, "uis_financial_summary")}),
    )
    asked = sorted((b["params"]["year"], b["params"]["month"]) for b in bodies(emulator, "get.financial_summary_report"))
    assert asked == [(2024, 3), (2024, 4)]
    dates = sorted(r.record.data["date"] for r in second.records)
    assert dates[0] == "2024-03-01" and dates[-1] == "2024-04-10" and len(dates) == 31 + 10

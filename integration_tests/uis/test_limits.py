"""UIS request budgets: the minute limit is waited out (paced by the budget the answers report), and a
used-up day limit stops the sync with a clear message and keeps the state for the next day."""

import datetime as dt

from integration_tests.uis.helpers import END, bodies, uis, uis_config, utc_window_of
from testkit.connector import error_messages, final_state, records_by_stream, run_read, state_for
from testkit.emulator.timeline import spread
from testkit.emulator.world import START_DATE, UIS_ACCESS_TOKEN


def test_the_minute_limit_is_waited_out_then_the_read_goes_on(emulator):
    vendor = uis(emulator)
    vendor.set_budget(UIS_ACCESS_TOKEN, minute_limit=2, minute_seconds=1)
    output = run_read(uis_config(emulator), ["uis_goals", "uis_offline_messages"])
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    assert len(got["uis_goals"]) == 300 and len(got["uis_offline_messages"]) == 250
    assert "limit_exceeded" in vendor.errors_sent  # four windows, two requests a second
    # get.account (once: both streams read the one account) spends the budget too
    refused_accounts = len(bodies(emulator, "get.account")) - 1
    assert len(bodies(emulator)) == 1 + 4 + vendor.errors_sent.count("limit_exceeded")
    assert vendor.errors_sent.count("limit_exceeded") >= refused_accounts >= 0


def test_requests_are_paced_by_the_minute_budget_the_answers_report(emulator):
    vendor = uis(emulator)
    vendor.timelines["get.calls_report"] = spread(25_000, START_DATE, END)  # 2 windows: 2 + 1 pages
    vendor.set_budget(UIS_ACCESS_TOKEN, minute_limit=3, minute_seconds=1)
    output = run_read(uis_config(emulator, concurrency_level=2), ["uis_calls"])
    assert not output.errors, error_messages(output)
    assert sorted(r.record.data["id"] for r in output.records) == vendor.ids("get.calls_report", START_DATE, END)
    assert vendor.errors_sent == []  # never asked for more than the minute grants
    assert len(bodies(emulator, "get.calls_report")) == 3 and len(bodies(emulator, "get.account")) == 1
    waits = [m.log.message for m in output.logs if "left in this minute's Data API budget" in (m.log.message or "")]
    # get.account spends one of the three, then two windows are in flight at once: the first wait comes
    # when fewer requests are left than can be in flight (1 or 0, whichever answer came first)
    assert waits and waits[0].startswith(
        (
            "UIS: 1 request(s) left in this minute's Data API budget (minute_limit 3); waiting 1 s",
            "UIS: 0 request(s) left in this minute's Data API budget (minute_limit 3); waiting 1 s",
        )
    )


def test_get_account_spends_the_minute_budget_and_is_paced_by_it(emulator):
    """Every method call spends the token's budget, get.account too: when its answer leaves no request
    in the minute, the connector waits for the reset before the first report instead of being refused."""
    vendor = uis(emulator)
    vendor.set_budget(UIS_ACCESS_TOKEN, minute_limit=1, minute_seconds=1)
    output = run_read(uis_config(emulator, end_date="2024-02-29", concurrency_level=1), ["uis_goals"])
    assert not output.errors, error_messages(output)
    assert sorted(r.record.data["id"] for r in output.records) == vendor.ids(
        "get.goals_report", START_DATE, "2024-02-29T23:59:59"
    )
    assert vendor.errors_sent == []  # the report was not refused
    assert [b["method"] for b in bodies(emulator)] == ["get.account", "get.goals_report"]
    waits = [m.log.message for m in output.logs if "left in this minute's Data API budget" in (m.log.message or "")]
    assert waits and waits[0].startswith("UIS: 0 request(s) left in this minute's Data API budget (minute_limit 1); waiting 1 s")


def test_the_emulator_counts_the_budgets_down_in_metadata(emulator):
    import requests

    url, params = emulator.url("uis") + "/v2.0", {"access_token": UIS_ACCESS_TOKEN, "year": 2024, "month": 1}
    limits = [
        requests.post(url, json={"jsonrpc": "2.0", "id": i, "method": "get.financial_summary_report", "params": params}).json()[
            "result"
        ]["metadata"]["limits"]
        for i in range(2)
    ]
    assert limits[0]["minute_remaining"] - limits[1]["minute_remaining"] == 1
    assert limits[0]["day_remaining"] - limits[1]["day_remaining"] == 1
    assert set(limits[0]) == {"day_limit", "day_remaining", "day_reset", "minute_limit", "minute_remaining", "minute_reset"}


def test_a_used_up_day_limit_stops_with_a_clear_message_and_keeps_the_state(emulator):
    vendor = uis(emulator)
    vendor.timelines["get.calls_report"] = spread(900, "2023-03-01", "2023-12-31T23:59:59")
    vendor.set_budget(UIS_ACCESS_TOKEN, day_limit=2)
    config = uis_config(emulator, start_date="2023-03-01", end_date="2023-12-31", concurrency_level=1)
    output = run_read(config, ["uis_calls"])
    error = output.errors[-1].trace.error
    assert error.message.startswith(
        "The sync did not finish. UIS: the Data API's daily request limit is used up "
        "(limit_exceeded, day_limit 2). The sync stopped here; what it read is saved"
    )
    assert "Traceback" not in error.message
    state = final_state(output, "uis_calls")
    first_two = [r.record.data for r in output.records]
    assert first_two and len(first_two) < 900
    # The next day the sync continues from the saved state, not from the start date.
    vendor.set_budget(UIS_ACCESS_TOKEN, day_limit=100)
    vendor.log.clear()
    second = run_read(config, ["uis_calls"], state=state_for({"uis_calls": state}))
    assert not second.errors, error_messages(second)
    earliest = min(utc_window_of(emulator, b)[0] for b in bodies(emulator, "get.calls_report"))
    assert earliest > dt.datetime(2023, 3, 1)
    ids = {r["id"] for r in first_two} | {r.record.data["id"] for r in second.records}
    assert ids == set(vendor.ids("get.calls_report"))

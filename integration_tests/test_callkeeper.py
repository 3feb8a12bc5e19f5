"""CallKeeper REST API (api.callkeeper.ru) against its emulator: windows, shapes, statuses, errors, state."""

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import jsonschema
import pytest
from airbyte_cdk.models import Status, SyncMode

from testkit.emulator.callkeeper import STATUS_PAIRS
from testkit.emulator.faults import Fault
from testkit.emulator.server import Response
from testkit.emulator.world import CALLKEEPER_API_KEY, CALLKEEPER_STATUSES, world_config
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
from source_calltracking.components.callkeeper_statuses import STATUSES, decode

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
WINDOWED = {
    "callkeeper_calls": "getCallsInfo",
    "callkeeper_completed_calls": "getCallsCompleted",
    "callkeeper_calls_by_status": "getCallsByStatus",
    "callkeeper_tap2calls": "getT2C",
}
CALL_STREAMS = ["callkeeper_calls", "callkeeper_completed_calls", "callkeeper_calls_by_status"]
ALL_STREAMS = [*WINDOWED, "callkeeper_user"]
START, END = "2024-01-01T00:00:00", "2024-04-30T23:59:59"


def vendor(emulator):
    return emulator.vendors["callkeeper"]


def ck_config(emulator, **block):
    config = world_config(emulator, ["callkeeper"])
    config["callkeeper"].update(block)
    return config


def held_ids(emulator, stream, since=START, until=END):
    statuses = CALLKEEPER_STATUSES if stream == "callkeeper_calls_by_status" else ()
    return vendor(emulator).call_ids(WINDOWED[stream], since, until, statuses)


def params_of(request):
    return {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


def validators():
    return {name: jsonschema.Draft7Validator(json.loads((SCHEMAS / f"{name}.json").read_text())) for name in ALL_STREAMS}


# ---- check and discover ----------------------------------------------------------------------


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


# ---- reading -----------------------------------------------------------------------------------


def test_every_stream_reads_every_record_once_and_matches_its_schema(emulator):
    output = run_read(ck_config(emulator), ALL_STREAMS, sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    checks = validators()
    for stream in WINDOWED:
        ids = [int(r["id"]) for r in got[stream]]
        assert len(ids) == len(set(ids)), f"{stream}: duplicates"
        assert sorted(ids) == held_ids(emulator, stream), f"{stream}: not what the API holds"
        for record in got[stream]:
            checks[stream].validate(record)
    assert len(got["callkeeper_calls"]) == 1500 and len(got["callkeeper_tap2calls"]) == 300
    assert got["callkeeper_user"] == [{**vendor(emulator).accounts[0].user, "_invalid_fields": None}]
    checks["callkeeper_user"].validate(got["callkeeper_user"][0])


@pytest.mark.parametrize(
    "container,user_container,numbers_as_strings",
    [("array", "object", False), ("keyed", "result", True), ("result_keyed", "array", False), ("result", "array", True)],
)
def test_every_answer_shape_gives_the_same_records(world_with, container, user_container, numbers_as_strings):
    """The document shows no answer of the read methods: a bare array, an object keyed by id and
    {"result": {id: call}} work as well as {"result": [...]}, and so do the three user shapes.
    Numbers sent as strings (as an uncast PHP answer would) are passed through and still decoded."""
    emulator = world_with(callkeeper_container=container, callkeeper_user_container=user_container,
                          numbers_as_strings=numbers_as_strings)
    output = run_read(ck_config(emulator, window_days=31), ["callkeeper_calls", "callkeeper_user"], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    assert sorted(int(r["id"]) for r in got["callkeeper_calls"]) == held_ids(emulator, "callkeeper_calls")
    assert got["callkeeper_user"] == [{**vendor(emulator).accounts[0].user, "_invalid_fields": None}]
    validator = validators()["callkeeper_calls"]
    for record in got["callkeeper_calls"]:
        validator.validate(record)
        pair = (int(record["status_code"]), int(record["status2_code"]))
        assert (record.get("status_title"), record.get("status_description")) == STATUSES.get(pair, (None, None))
    assert any(r.get("status_title") == "Звонок прошел успешно" for r in got["callkeeper_calls"])


def test_completed_and_by_status_streams_hold_what_their_methods_select(emulator):
    output = run_read(ck_config(emulator, statuses=["200/200", "200/487", "811/0"], window_days=31), CALL_STREAMS)
    got = records_by_stream(output)
    pairs = lambda stream: {(int(r["status_code"]), int(r["status2_code"])) for r in got[stream]}  # noqa: E731
    assert pairs("callkeeper_calls") == set(STATUS_PAIRS)
    assert pairs("callkeeper_completed_calls") == set(STATUS_PAIRS) - {(1, 0), (2, 0)}
    assert pairs("callkeeper_calls_by_status") == {(200, 200), (200, 487), (811, 0)}
    requests = emulator.requests_to("callkeeper", "/getCallsByStatus")
    assert {params_of(r)["statuses"] for r in requests} == {"200/200,200/487,811/0"}
    assert not any("statuses" in params_of(r) for r in emulator.requests_to("callkeeper") if r.path != "/getCallsByStatus")


def test_status_pairs_are_decoded_from_the_documents_table(emulator):
    output = run_read(ck_config(emulator, window_days=31), ["callkeeper_calls"])
    calls = records_by_stream(output)["callkeeper_calls"]
    by_pair = {(int(r["status_code"]), int(r["status2_code"])): r for r in calls}
    success = by_pair[(200, 200)]
    assert (success["status_title"], success["status_description"]) == ("Звонок прошел успешно", "Успешный звонок. Всё прошло хорошо")
    no_answer = by_pair[(200, 487)]
    assert (no_answer["status_title"], no_answer["status_description"]) == ("Клиент не взял трубку", "Клиент не взял трубку")
    balance = by_pair[(811, 0)]
    assert (balance["status_title"], balance["status_description"]) == ("Недостаточно минут на балансе", "Закончился баланс")
    # A pair the table does not list stays null (the CDK leaves null values out of the record).
    assert by_pair[(999, 0)].get("status_title") is None and by_pair[(999, 0)].get("status_description") is None
    for record in calls:
        assert (record["status_title"], record["status_description"]) == STATUSES.get(
            (int(record["status_code"]), int(record["status2_code"])), (None, None))


def test_the_status_table_is_the_documents_table():
    assert len(STATUSES) == 58
    assert decode(200, 491) == ("Техническая ошибка телефонии", "Ошибка повторного обращения к тому же диалогу")
    assert decode(701, 0) == ("Ненужный звонок", "Звонок отменен. Происходит при заказе звонка, когда цепочка уже удачно закончена")
    assert decode(502, 0) == ("Технические неполадки оператора связи:", "Технические неполадки на стороне оператора связи")
    assert decode(790, 0) == ("Test call", "Test call")
    assert decode("200", "0") == decode(200, None) == decode(200, "") == decode(200, 0)
    assert decode(200, 999) == decode(None, None) == decode("abc", 0) == (None, None)


DOCUMENTED_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")  # the document's 2005-08-15T23:59:59


def test_each_stream_spends_one_request_per_window_and_windows_meet_exactly(emulator):
    """60 days in windows of 10: 6 requests per stream, each window asked for in the document's form
    one second wider at each end, in `time_zone` (UTC when none is configured), always sent."""
    config = ck_config(emulator, window_days=10)
    config["end_date"] = "2024-02-29"
    output = run_read(config, list(WINDOWED))
    assert not output.errors, error_messages(output)
    for stream, method in WINDOWED.items():
        requests = [params_of(r) for r in emulator.requests_to("callkeeper", "/" + method + "?")]
        assert len(requests) == 6, stream
        assert all(DOCUMENTED_BOUND.fullmatch(p["date[from]"]) and DOCUMENTED_BOUND.fullmatch(p["date[to]"]) for p in requests)
        assert {p["time_zone"] for p in requests} == {"UTC"}
        windows = sorted((p["date[from]"], p["date[to]"]) for p in requests)
        assert windows[0][0] == "2023-12-31T23:59:59" and windows[-1][1] == "2024-03-01T00:00:00"
        for (_, previous_end), (next_start, _) in zip(windows, windows[1:]):
            # The previous window asked up to the next one's first second; the next from the previous one's last.
            assert dt.datetime.fromisoformat(next_start) == dt.datetime.fromisoformat(previous_end) - dt.timedelta(seconds=1)
        key_param = "apiak" if method == "getT2C" else "api_key"
        assert all(p[key_param] == CALLKEEPER_API_KEY for p in requests)
        assert all(("api_key" in p) != ("apiak" in p) for p in requests)
    got = records_by_stream(output)
    for stream in WINDOWED:
        ids = [int(r["id"]) for r in got[stream]]
        assert sorted(ids) == held_ids(emulator, stream, until="2024-02-29T23:59:59") and len(ids) == len(set(ids))


def test_the_window_goes_out_as_wall_clock_time_in_the_time_zone(emulator):
    """Regression: the bounds went out as 2024-01-01T00:00:00+00:00, a form the document never shows,
    which a server that reads only its documented forms answers with 406 "Wrong data type!"."""
    output = run_read(ck_config(emulator, time_zone="Asia/Vladivostok", window_days=31), ["callkeeper_calls", "callkeeper_tap2calls"])
    assert not output.errors, error_messages(output)
    requests = [params_of(r) for r in emulator.requests_to("callkeeper")]
    assert {p.get("time_zone") for p in requests} == {"Asia/Vladivostok"}
    assert min(p["date[from]"] for p in requests) == "2024-01-01T09:59:59"  # 2023-12-31 23:59:59 UTC, at UTC+10
    got = records_by_stream(output)
    assert sorted(int(r["id"]) for r in got["callkeeper_calls"]) == held_ids(emulator, "callkeeper_calls")
    assert sorted(int(r["id"]) for r in got["callkeeper_tap2calls"]) == held_ids(emulator, "callkeeper_tap2calls")


@pytest.mark.parametrize("to_bound", ["inclusive", "exclusive"])
@pytest.mark.parametrize("repeated_hour", [0, 1])
def test_windows_meet_without_a_gap_or_an_overlap_across_a_daylight_saving_change(world_with, to_bound, repeated_hour):
    """Kyiv turns its clocks back at 04:00 on 2024-10-27 (01:00 UTC): 03:00-04:00 happens twice. A
    window boundary at 00:30 UTC falls inside it, with a call every 30 s around it. Whichever way the
    server reads `date[to]` and the repeated hour, every call arrives once."""
    emulator = world_with(callkeeper_to_bound=to_bound, callkeeper_repeated_hour=repeated_hour)
    calls = vendor(emulator).accounts[0].calls
    calls.start, calls.step_seconds, calls.count = dt.datetime(2024, 10, 26, 20, tzinfo=dt.timezone.utc), 30, 1200  # 20:00-06:00 UTC
    config = world_config(emulator, ["callkeeper"], start_date="2024-10-20T00:30:00Z", end_date="2024-10-31")
    config["callkeeper"].update(time_zone="Europe/Kyiv", window_days=7)
    output = run_read(config, ["callkeeper_calls"], sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    ids = [int(r["id"]) for r in records_by_stream(output)["callkeeper_calls"]]
    assert len(ids) == len(set(ids)) == 1200
    assert sorted(ids) == held_ids(emulator, "callkeeper_calls", "2024-10-20", "2024-11-01")
    bounds = {params_of(r)["date[to]"] for r in emulator.requests_to("callkeeper", "/getCallsInfo")}
    assert "2024-10-27T04:00:00" in bounds  # moved out of the repeated hour, to a time that happens once


def test_a_period_without_calls_is_empty_not_an_error(emulator):
    config = ck_config(emulator)
    config.update(start_date="2023-01-01", end_date="2023-03-31")
    output = run_read(config, list(WINDOWED))
    assert not output.errors
    assert output.records == []
    assert all(final_state(output, stream) for stream in WINDOWED)


def test_incremental_round_trip_returns_new_calls_and_the_lookback(emulator):
    config = ck_config(emulator, window_days=31)
    config["end_date"] = "2024-06-30"
    calls = vendor(emulator).accounts[0].calls
    first = run_read(config, ["callkeeper_calls"])
    assert len(first.records) == 1500
    state = final_state(first, "callkeeper_calls")
    assert state["date"] == calls.last_time.strftime("%Y-%m-%d %H:%M:%S")

    calls.count += 300  # new calls arrive after the first sync (into May)
    emulator.clear_log()
    second = run_read(config, ["callkeeper_calls"], state=state_for({"callkeeper_calls": state}))
    assert not second.errors
    cursor = dt.datetime.fromisoformat(state["date"])
    expected = held_ids(emulator, "callkeeper_calls", (cursor - dt.timedelta(days=1)).isoformat(), "2100-01-01")
    assert sorted(int(r.record.data["id"]) for r in second.records) == sorted(expected)
    assert len(expected) > 300
    assert final_state(second, "callkeeper_calls")["date"] == calls.last_time.strftime("%Y-%m-%d %H:%M:%S")
    first_window = min(params_of(r)["date[from]"] for r in emulator.requests_to("callkeeper", "/getCallsInfo"))
    assert first_window == (cursor - dt.timedelta(days=1, seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_server_error_is_retried(emulator):
    emulator.faults.add(Fault("callkeeper", "response", times=1, response=Response(503, b"<html>busy</html>", "text/html"),
                              match=lambda r: r.path == "/getCallsInfo"))
    output = run_read(ck_config(emulator, window_days=62), ["callkeeper_calls"])
    assert not output.errors
    assert len(output.records) == 1500
    assert [r.status for r in emulator.requests_to("callkeeper")].count(503) == 1
    assert len(emulator.requests_to("callkeeper")) == 2 + 1


# ---- errors --------------------------------------------------------------------------------------

KEY_HINT = "Check callkeeper.api_key."


ERROR_CASES = pytest.mark.parametrize(
    "setup,message,failure_type",
    [
        (lambda v, c: c["callkeeper"].update(api_key="1" * 32),
         f"CallKeeper: the API key was not accepted (Not the correct key api). {KEY_HINT}", "config_error"),
        (lambda v, c: v.unknown_user_keys.add(CALLKEEPER_API_KEY),
         f"CallKeeper: the API key belongs to no known user (Unknown user). {KEY_HINT}", "config_error"),
        (lambda v, c: c["callkeeper"].update(api_key="not-a-key"),
         "CallKeeper: the API key has the wrong format (Apiak or Hash shorter or longer then was required or not "
         "hexadecimal). Check callkeeper.api_key: it is the hexadecimal key from the Profile tab of the CallKeeper account.",
         "config_error"),
        (lambda v, c: setattr(v, "host_allowed", False),
         "CallKeeper: requests from this host are not authorised (Unauthorized host!). Add the connector's host to the "
         "authorised hosts in the CallKeeper account (Profile), or turn the host check off there.", "config_error"),
        (lambda v, c: setattr(v, "widget_disabled", True),
         "CallKeeper: the widget is disabled (The widget is disabled). Enable it in the CallKeeper account.", "config_error"),
        (lambda v, c: setattr(v, "forced_error", "type"),
         "CallKeeper: the API rejected the request (Wrong data type!).", "system_error"),
        (lambda v, c: setattr(v, "forced_error", "not_enough"),
         "CallKeeper: the API rejected the request (Not enough values).", "system_error"),
        (lambda v, c: setattr(v, "forced_error", "mismatched"),
         "CallKeeper: the API rejected the request (Mismatched request!).", "system_error"),
    ],
    ids=["403-key", "412-user", "417-format", "401-host", "710-widget", "406-type", "409-values", "404-request"],
)


@ERROR_CASES
def test_every_documented_error_ends_the_sync_with_its_reason(emulator, setup, message, failure_type):
    config = ck_config(emulator)
    setup(vendor(emulator), config)
    output = run_read(config, ["callkeeper_tap2calls"])  # getT2C: the key travels as `apiak`
    stream_error, final = output.errors[0].trace.error, output.errors[-1].trace.error
    assert stream_error.message == message
    assert stream_error.failure_type.value == final.failure_type.value == failure_type
    assert final.message == f"The sync did not finish. {message.rstrip('.')} (stream callkeeper_tap2calls)."
    assert output.records == []
    # Each failure is reported once, however many windows hit it; no traceback reaches the user.
    assert len([e for e in output.errors if e.trace.error.stream_descriptor]) == 1
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)


def test_errors_wrapped_in_an_array_read_the_same(emulator):
    """Published clients read errors as `[{"status":"fail","reason":...}]`: the same messages come out."""
    vendor(emulator).error_shape = "array"
    for setup, expected, failure_type in (
        (lambda: vendor(emulator).unknown_user_keys.add(CALLKEEPER_API_KEY), "(Unknown user)", "config_error"),
        (lambda: setattr(vendor(emulator), "forced_error", "not_enough"), "(Not enough values)", "system_error"),
    ):
        setup()
        error = run_read(ck_config(emulator), ["callkeeper_calls"]).errors[0].trace.error
        assert expected in error.message and error.failure_type.value == failure_type


def test_a_key_error_without_a_json_body_names_the_http_code(emulator):
    """A proxy or firewall may answer 403 with a page of its own: still a key problem, with the code for a reason."""
    emulator.faults.add(Fault("callkeeper", "response", times=-1, response=Response(403, b"<html>Forbidden</html>", "text/html")))
    error = run_read(ck_config(emulator), ["callkeeper_calls"]).errors[0].trace.error
    assert error.message == f"CallKeeper: the API key was not accepted (HTTP 403). {KEY_HINT}"
    assert error.failure_type.value == "config_error"


def test_the_key_never_appears_in_output_even_when_the_request_url_is_logged(emulator):
    """run_read scans every printed line for the key (raw and URL-encoded); make sure there was a URL to mask."""
    vendor(emulator).forced_error = "type"
    output = run_read(ck_config(emulator), ["callkeeper_calls", "callkeeper_tap2calls"])
    printed = "\n".join(str(m) for m in output._messages)
    assert "getCallsInfo" in printed and "getT2C" in printed
    assert CALLKEEPER_API_KEY not in printed

"""UIS agencies, end to end: one agent (partner) token reading its clients (`uis.user_ids` "all" or a list).
Every client is read completely, tagged with its `user_id`, in its own zone and with its own state;
a client the token may not read is named and the others go on; all clients spend one budget.

The emulator's world has three clients (UIS_CLIENTS): Урал Моторс in Asia/Yekaterinburg, Riga Dental in
Europe/Riga (03:00 EET -> 04:00 EEST on 2024-03-31) and Закрытый магазин, whose access is withdrawn
(`forbidden`). What each client holds comes from the emulator's truth, `expected(...)`, in UTC."""

import datetime as dt

from airbyte_cdk.models import Status

from integration_tests.uis.agency_helpers import (
    ALLOWED,
    BY_ID,
    DAY,
    FORBIDDEN,
    RIGA,
    SECOND,
    YEKATERINBURG,
    agent_config,
    asked_from,
    by_client,
    cursors,
    keys,
    truth,
    truth_of,
    utc_range,
    z,
)
from integration_tests.uis.helpers import uis
from testkit.connector import connection_status, error_messages, final_state, run_check, run_read, state_for
from testkit.emulator.timeline import parse_utc
from testkit.emulator.world import UIS_AGENT_TOKEN, UIS_CLIENT_EDGES, UIS_CLIENTS

STREAMS = ["uis_calls", "uis_goals", "uis_offline_messages"]


def label(user_id):
    """How the connector names a client: by its name, login and user id (all three must be in a message)."""
    client = BY_ID[user_id]
    return client["name"], f"login {client['login']}", f"user_id {user_id}"


def assert_every_record_of(emulator, output, config, streams, user_ids):
    """Each stream holds exactly the truth of each client in the config's UTC range, each record once, tagged
    with its client, its `event_time_utc` the truth's instant; and no record of any other client."""
    for stream in streams:
        got = by_client(output, stream)
        assert set(got) == set(user_ids), f"{stream}: records of clients {sorted(got, key=str)}, expected {user_ids}"
        for user_id in user_ids:
            expected = truth_of(emulator, config, stream, user_id)
            assert expected, f"the world holds no {stream} of client {user_id} in the range: the test would prove nothing"
            assert keys(got[user_id], stream) == sorted(expected), f"{stream}, client {user_id}"
            key = "leg_id" if stream == "uis_financial_call_legs" else "id"
            wrong = [
                (r[key], r["event_time_utc"], expected[r[key]]) for r in got[user_id] if r["event_time_utc"] != expected[r[key]]
            ]
            assert not wrong, f"{stream}, client {user_id}: event_time_utc differs from the truth: {wrong[:5]}"


# ---- 1. "all" ------------------------------------------------------------------------------------


def test_all_reads_every_record_of_the_allowed_clients_and_names_the_forbidden_one(emulator):
    config = agent_config(emulator, "all")
    output = run_read(config, STREAMS)
    assert_every_record_of(emulator, output, config, STREAMS, ALLOWED)

    # The forbidden client, in one plain sentence said of it: provider, name, login, user id and the cause.
    messages = error_messages(output)
    assert messages, "the forbidden client was not reported"
    name, login, user_id = label(FORBIDDEN)
    for error in output.errors:
        message = error.trace.error.message
        assert f"UIS, client «{name}» ({login}, {user_id}): " in message, message
        assert "forbidden" in message and "\n" not in message and "Traceback" not in message, message
        # The cause for this client as a whole, not advice about one report: every stream of it fails alike.
        assert "none of its reports can be read" in message and "uis.user_ids" in message, message
        assert "remove the stream" not in message, message
        assert error.trace.error.failure_type.value == "config_error", message
        for other in ALLOWED:
            assert str(other) not in message, f"an allowed client is named in the error: {message}"
    stream_errors = {e.trace.error.stream_descriptor.name for e in output.errors if e.trace.error.stream_descriptor}
    assert stream_errors == set(STREAMS)  # each stream says which client it could not read
    assert not any("Traceback" in (m.log.message or "") for m in output.logs)

    # The other clients' state is saved: each at its last record.
    for stream in STREAMS:
        saved = cursors(output, stream)
        for user_id in ALLOWED:
            assert saved[user_id] == max(truth_of(emulator, config, stream, user_id).values()), (stream, user_id)


# ---- 2. a list of user ids -----------------------------------------------------------------------


def test_a_list_of_user_ids_reads_those_clients_only(emulator):
    config = agent_config(emulator, list(ALLOWED))
    output = run_read(config, STREAMS)
    assert not output.errors, error_messages(output)
    assert_every_record_of(emulator, output, config, STREAMS, ALLOWED)
    asked = {body["params"].get("user_id") for body in uis(emulator).log if body["method"] != "get.customer_users"}
    assert asked == set(ALLOWED)  # the client not listed is never asked for
    for stream in STREAMS:
        assert set(cursors(output, stream)) == set(ALLOWED)


def test_an_unknown_user_id_in_the_list_is_named_and_the_known_client_is_read(emulator):
    unknown = 999_999
    assert unknown not in BY_ID
    config = agent_config(emulator, [YEKATERINBURG, unknown])
    output = run_read(config, ["uis_goals"])
    assert_every_record_of(emulator, output, config, ["uis_goals"], [YEKATERINBURG])
    messages = error_messages(output)
    assert messages
    for message in messages:
        assert f"UIS, client user_id {unknown}: " in message, message
        assert "invalid_parameter_value" in message and "uis.user_ids" in message, message
        assert str(YEKATERINBURG) not in message and "\n" not in message, message
    assert cursors(output, "uis_goals")[YEKATERINBURG] == max(truth_of(emulator, config, "uis_goals", YEKATERINBURG).values())


# ---- 3. incremental round trip -------------------------------------------------------------------


def test_incremental_round_trip_per_client_loses_nothing_and_repeats_only_the_lookback(emulator):
    streams = ["uis_calls", "uis_goals"]
    first_config = agent_config(emulator, list(ALLOWED), end_date="2024-02-29")
    first = run_read(first_config, streams)
    assert not first.errors, error_messages(first)
    assert_every_record_of(emulator, first, first_config, streams, ALLOWED)

    config = agent_config(emulator, list(ALLOWED))  # to END_DATE
    saved = {stream: cursors(first, stream) for stream in streams}
    second = run_read(config, streams, state=state_for({s: final_state(first, s) for s in streams}))
    assert not second.errors, error_messages(second)
    since, until = utc_range(config)
    lookback = DAY * config["lookback_window_days"]
    for stream in streams:
        for user_id in ALLOWED:
            cursor = saved[stream][user_id]
            assert cursor == max(truth_of(emulator, first_config, stream, user_id).values()), (stream, user_id)
            old = keys(by_client(first, stream)[user_id], stream)
            new = by_client(second, stream)[user_id]
            # The second sync reads from the client's own cursor minus the lookback, up to the end.
            since_cursor = truth(emulator, stream, user_id, parse_utc(cursor) - lookback, until)
            assert keys(new, stream) == sorted(since_cursor), (stream, user_id)
            # Nothing lost: both syncs together hold the whole truth.
            assert sorted(set(old) | set(keys(new, stream))) == sorted(truth(emulator, stream, user_id, since, until))
            # Repeated records are those of the lookback window only.
            repeated = [r for r in new if r["id"] in set(old)]
            assert repeated and all(parse_utc(r["event_time_utc"]) >= parse_utc(cursor) - lookback for r in repeated)
            assert len(keys(new, stream)) == len(set(keys(new, stream)))
        assert {u: c for u, c in cursors(second, stream).items()} == {
            u: max(truth_of(emulator, config, stream, u).values()) for u in ALLOWED
        }


# ---- 4. a client added to the list ---------------------------------------------------------------


def test_a_client_added_to_user_ids_reads_from_start_date_and_the_others_keep_their_state(emulator):
    stream, method = "uis_calls", "get.calls_report"
    first_config = agent_config(emulator, [YEKATERINBURG], end_date="2024-02-29")
    first = run_read(first_config, [stream])
    assert not first.errors, error_messages(first)
    cursor = cursors(first, stream)[YEKATERINBURG]
    assert set(cursors(first, stream)) == {YEKATERINBURG}

    uis(emulator).log.clear()
    config = agent_config(emulator, [YEKATERINBURG, RIGA])
    second = run_read(config, [stream], state=state_for({stream: final_state(first, stream)}))
    assert not second.errors, error_messages(second)
    since, until = utc_range(config)
    lookback = DAY * config["lookback_window_days"]
    got = by_client(second, stream)
    # The added client reads its whole history, the old one from its own cursor (minus the lookback).
    assert keys(got[RIGA], stream) == sorted(truth(emulator, stream, RIGA, since, until))
    assert keys(got[YEKATERINBURG], stream) == sorted(truth(emulator, stream, YEKATERINBURG, parse_utc(cursor) - lookback, until))
    # The requests say the same: the added client's first window starts at start_date (a second wider,
    # in its zone), the old client's at its cursor minus the lookback, not at start_date.
    riga_from = asked_from(emulator, method, RIGA)
    assert since - dt.timedelta(minutes=1) <= riga_from[0] <= since
    ural_from = asked_from(emulator, method, YEKATERINBURG)
    assert ural_from and parse_utc(cursor) - lookback - dt.timedelta(minutes=1) <= ural_from[0] <= parse_utc(cursor) - lookback
    assert ural_from[0] > since + DAY * 30
    assert cursors(second, stream) == {u: max(truth_of(emulator, config, stream, u).values()) for u in (YEKATERINBURG, RIGA)}


# ---- 5. check ------------------------------------------------------------------------------------


def test_check_with_the_agent_token_tries_every_client_and_names_the_forbidden_one(emulator):
    """source.py's check reads one cheap request per client and fails, naming each client that fails."""
    status = connection_status(run_check(agent_config(emulator, "all")))
    assert status.status == Status.FAILED
    name, login, user_id = label(FORBIDDEN)
    assert status.message.startswith(f"UIS, client «{name}» ({login}, {user_id}): "), status.message
    assert "(forbidden)" in status.message and "\n" not in status.message
    assert all(str(other) not in status.message for other in ALLOWED), status.message
    asked = {body["params"].get("user_id") for body in uis(emulator).log if body["method"] != "get.customer_users"}
    assert asked == {c["user_id"] for c in UIS_CLIENTS}  # every client was tried

    uis(emulator).log.clear()
    status = connection_status(run_check(agent_config(emulator, list(ALLOWED))))
    assert status.status == Status.SUCCEEDED, status.message
    assert {body["params"].get("user_id") for body in uis(emulator).log if body["method"] != "get.customer_users"} == set(ALLOWED)


# ---- 6. one budget -------------------------------------------------------------------------------


def test_all_clients_together_keep_to_the_tokens_minute_budget(emulator):
    """Two requests a second for the whole token: get.customer_users, each client's get.account and each
    client's reports spend the one budget, and the connector never asks for more than it grants."""
    vendor = uis(emulator)
    budget = vendor.set_budget(UIS_AGENT_TOKEN, minute_limit=2, minute_seconds=1)
    config = agent_config(emulator, "all", start_date="2024-03-01", end_date="2024-03-31", concurrency_level=1)
    output = run_read(config, ["uis_goals"])
    assert_every_record_of(emulator, output, config, ["uis_goals"], ALLOWED)
    assert "limit_exceeded" not in vendor.errors_sent, vendor.errors_sent
    accepted = len(vendor.log) - len(vendor.errors_sent)
    assert budget.day_used == accepted >= 5  # the clients' requests were counted on the one token
    waits = [m.log.message for m in output.logs if "left in this minute's Data API budget" in (m.log.message or "")]
    assert len(waits) >= (accepted + 1) // 2 - 1


# ---- 7. zones and edges --------------------------------------------------------------------------


def test_ranges_that_end_at_local_midnights_and_at_the_dst_change_lose_and_repeat_nothing(emulator):
    """Consecutive syncs whose start_date/end_date are the UIS_CLIENT_EDGES instants of both clients (their
    local midnights, Riga's 02:59:59 EET / 04:00:00 EEST): each reads exactly its range of each client's
    truth, with the truth's event_time_utc, and together they read every row once."""
    stream = "uis_calls"
    clients = [YEKATERINBURG, RIGA]
    bounds = sorted({parse_utc(e) for c in clients for e in UIS_CLIENT_EDGES[c]} | {parse_utc("2024-05-01")})
    assert len(bounds) >= 10
    seen = {c: [] for c in clients}
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        config = agent_config(emulator, clients, start_date=z(lo), end_date=z(hi - SECOND))
        assert utc_range(config) == (lo, hi)
        output = run_read(config, [stream])
        assert not output.errors, error_messages(output)
        got = by_client(output, stream)
        for user_id in clients:
            expected = truth(emulator, stream, user_id, lo, hi)
            records = got.get(user_id, [])
            assert keys(records, stream) == sorted(expected), f"client {user_id}, [{z(lo)}, {z(hi)})"
            assert all(r["event_time_utc"] == expected[r["id"]] for r in records), f"client {user_id}, [{z(lo)}, {z(hi)})"
            seen[user_id] += records
    for user_id in clients:
        everything = truth(emulator, stream, user_id, bounds[0], bounds[-1])
        assert keys(seen[user_id], stream) == sorted(everything)  # nothing lost, nothing repeated
        instants = [r["event_time_utc"] for r in seen[user_id]]
        for edge in UIS_CLIENT_EDGES[user_id]:
            if bounds[0] <= parse_utc(edge) < bounds[-1]:
                assert instants.count(edge) == list(everything.values()).count(edge) >= 1, (user_id, edge)

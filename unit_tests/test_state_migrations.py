"""States of 0.1.x brought to 0.2.0's cursors, and per-account states without the global cursor."""

import json
from pathlib import Path

from source_calltracking.components.migrations import CursorToEventTimeUtc, EveryAccountFromItsOwnState

RESOURCES = Path(__file__).parent / "resources"


def ria_migration(config=None):
    return CursorToEventTimeUtc(
        config=config or {"ria": {}},
        parameters={
            "old_cursor_field": "date",
            "config_block": "ria",
            "time_zone_key": "time_zone",
            "default_time_zone": "Europe/Kyiv",
        },
    )


def uis_migration(field="start_time"):
    return CursorToEventTimeUtc(config={"uis": {}}, parameters={"event_time_field": field, "margin_hours": 14})


def test_a_ria_day_becomes_its_first_moment_in_kyiv():
    migration = ria_migration()
    assert migration.should_migrate({"date": "2024-04-30"})
    assert migration.migrate({"date": "2024-04-30"}) == {"event_time_utc": "2024-04-29T21:00:00Z"}  # Kyiv is UTC+3 in summer
    assert migration.migrate({"date": "2024-01-15"}) == {"event_time_utc": "2024-01-14T22:00:00Z"}
    assert ria_migration({"ria": {"time_zone": "UTC"}}).migrate({"date": "2024-01-15"}) == {
        "event_time_utc": "2024-01-15T00:00:00Z"
    }


def test_a_uis_local_time_of_an_unknown_zone_moves_back_by_the_widest_offset():
    migration = uis_migration()
    assert migration.migrate({"start_time": "2024-04-30 12:00:00"}) == {"event_time_utc": "2024-04-29T22:00:00Z"}


def test_a_substream_state_is_migrated_with_its_parent():
    migration = uis_migration("date_time")
    old = {
        "state": {"date_time": "2024-04-30 04:38:53"},
        "parent_state": {"uis_chats": {"date_time": "2024-04-30 04:38:23"}},
        "use_global_cursor": True,
        "lookback_window": 1,
    }
    assert migration.should_migrate(old)
    assert migration.migrate(old) == {
        "state": {"event_time_utc": "2024-04-29T14:38:53Z"},
        "use_global_cursor": True,
        "parent_state": {"uis_chats": {"event_time_utc": "2024-04-29T14:38:23Z"}},
        "lookback_window": 1,
    }


def test_a_state_already_migrated_is_left_alone():
    for migration, state in (
        (ria_migration(), {"event_time_utc": "2024-04-29T21:00:00Z"}),
        (uis_migration(), {}),
        (uis_migration(), {"states": [{"partition": {"user_id": 1}, "cursor": {"event_time_utc": "x"}}]}),
    ):
        assert not migration.should_migrate(state)


def test_the_ckct_streams_of_the_0_1_0_state_file_need_no_migration():
    """0.1.0's ckct cursor `call_datetime` is kept (UTC unless callkeeper_calltracking.time_zone says otherwise)."""
    messages = json.loads((RESOURCES / "state_0.1.0.json").read_text())
    names = {m["stream"]["stream_descriptor"]["name"] for m in messages}
    assert names == {"calltracking_calls", "calltracking_calls_by_role", "calltracking_calls_with_role"}
    assert all(set(m["stream"]["stream_state"]) == {"call_datetime"} for m in messages)


def test_a_new_account_starts_from_start_date_not_from_the_others_cursor():
    migration = EveryAccountFromItsOwnState()
    state = {
        "use_global_cursor": False,
        "lookback_window": 1,
        "state": {"event_time_utc": "2024-04-30T00:00:00Z"},
        "states": [{"partition": {"account": "A"}, "cursor": {"event_time_utc": "2024-04-30T00:00:00Z"}}],
    }
    assert migration.should_migrate(state)
    assert migration.migrate(state) == {"use_global_cursor": False, "states": state["states"]}
    assert not migration.should_migrate(migration.migrate(state))


def test_a_single_account_state_is_not_given_to_every_account():
    migration = EveryAccountFromItsOwnState()
    assert migration.should_migrate({"event_time_utc": "2024-04-30T00:00:00Z"})
    assert migration.migrate({"event_time_utc": "2024-04-30T00:00:00Z"}) == {}
    assert not migration.should_migrate({})


def test_the_parents_global_cursor_goes_too():
    migration = EveryAccountFromItsOwnState()
    parent = {
        "states": [{"partition": {"user_id": 1}, "cursor": {"event_time_utc": "2024-04-01T00:00:00Z"}}],
        "state": {"event_time_utc": "2024-04-01T00:00:00Z"},
        "lookback_window": 1,
        "use_global_cursor": False,
    }
    state = {"state": {"event_time_utc": "2024-04-01T00:00:00Z"}, "parent_state": {"uis_chats": parent}}
    assert migration.should_migrate(state)
    migrated = migration.migrate(state)
    assert migrated["state"] == state["state"]  # the substream's own (global) cursor is its state: kept
    assert migrated["parent_state"]["uis_chats"] == {"states": parent["states"], "use_global_cursor": False}


def test_every_state_of_0_1_1_either_needs_no_migration_or_migrates_to_event_time_utc():
    """state_0.1.1.json: the state 0.1.1 (main before 0.2.0) wrote after a sync of every provider to
    2024-02-29. The cursors that changed become `event_time_utc`, never later than the old value read
    as UTC (so nothing after it is skipped); the others are kept as they are."""
    messages = json.loads((RESOURCES / "state_0.1.1.json").read_text())
    states = {m["stream"]["stream_descriptor"]["name"]: m["stream"]["stream_state"] for m in messages}
    assert len(states) == 18
    for name, state in states.items():
        if name == "ria_calls":
            assert ria_migration().migrate(state) == {"event_time_utc": "2024-02-28T22:00:00Z"}  # 00:00 on 29 Feb in Kyiv
        elif name.startswith("uis_") and name != "uis_financial_summary":
            field = "start_time" if name in ("uis_calls", "uis_call_legs", "uis_financial_call_legs") else "date_time"
            migration = uis_migration(field)
            assert migration.should_migrate(state), name
            migrated = migration.migrate(state)
            old = (state.get("state") or state)[field]
            new = (migrated.get("state") or migrated)["event_time_utc"]
            assert new < old.replace(" ", "T") + "Z" and field not in json.dumps(migrated), name
        else:  # ckct.ru's call_datetime, CallKeeper's date (UTC), UIS's financial date: unchanged cursors
            assert set(state) <= {"call_datetime", "date"}, name

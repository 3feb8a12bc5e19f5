"""The Singer translation of tap-calltracking, without any process or server: catalog, selection, state."""

from __future__ import annotations

import copy
import io
import json

from source_calltracking.singer import (
    FULL_TABLE,
    INCREMENTAL,
    Translator,
    _writer,
    airbyte_configured_catalog,
    airbyte_state,
    selected_streams,
    singer_catalog,
)
from unit_tests.pipes import ShortWrites

AIRBYTE_CATALOG = {
    "streams": [
        {
            "name": "calls",
            "json_schema": {
                "type": "object",
                "properties": {
                    "record_id": {"type": ["string", "null"]},
                    "call_datetime": {"type": ["string", "null"]},
                    "phone": {"type": ["string", "null"]},
                },
            },
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True,
            "default_cursor_field": ["call_datetime"],
            "source_defined_primary_key": [["record_id"]],
        },
        {
            "name": "user",
            "json_schema": {
                "type": "object",
                "properties": {"id": {"type": ["integer", "null"]}, "name": {"type": ["string", "null"]}},
            },
            "supported_sync_modes": ["full_refresh"],
            "source_defined_primary_key": [["id"]],
        },
    ]
}


def discovered():
    return singer_catalog(AIRBYTE_CATALOG)


def entry(catalog, name):
    return next(e for e in catalog["streams"] if e["stream"] == name)


def top_metadata(catalog_entry):
    return next(m["metadata"] for m in catalog_entry["metadata"] if m["breadcrumb"] == [])


def set_top(catalog, name, **values):
    top_metadata(entry(catalog, name)).update({k.replace("_", "-"): v for k, v in values.items()})


# ---- discover -------------------------------------------------------------------------------
def test_discover_gives_keys_replication_keys_and_property_metadata():
    catalog = discovered()
    assert [e["tap_stream_id"] for e in catalog["streams"]] == ["calls", "user"]
    calls, user = entry(catalog, "calls"), entry(catalog, "user")
    assert calls["key_properties"] == ["record_id"] and user["key_properties"] == ["id"]
    assert calls["schema"] == AIRBYTE_CATALOG["streams"][0]["json_schema"]
    assert calls["replication_method"] == INCREMENTAL and calls["replication_key"] == "call_datetime"
    assert top_metadata(calls) == {
        "inclusion": "available",
        "selected-by-default": True,
        "table-key-properties": ["record_id"],
        "valid-replication-keys": ["call_datetime"],
    }
    assert top_metadata(user) == {
        "inclusion": "available",
        "selected-by-default": True,
        "table-key-properties": ["id"],
        "forced-replication-method": FULL_TABLE,
    }
    assert user["replication_method"] == FULL_TABLE and "replication_key" not in user
    inclusion = {tuple(m["breadcrumb"]): m["metadata"]["inclusion"] for m in calls["metadata"] if m["breadcrumb"]}
    assert inclusion == {
        ("properties", "record_id"): "automatic",
        ("properties", "call_datetime"): "automatic",
        ("properties", "phone"): "available",
    }


# ---- selection --------------------------------------------------------------------------------
def test_discovered_catalog_as_is_selects_every_stream_by_default():
    streams = selected_streams(discovered())
    assert [(s.name, s.incremental, s.cursor) for s in streams] == [("calls", True, "call_datetime"), ("user", False, None)]


def test_breadcrumb_selected_true_selects_only_that_stream():
    catalog = discovered()
    set_top(catalog, "calls", selected=True)
    set_top(catalog, "user", selected=False)
    assert [s.name for s in selected_streams(catalog)] == ["calls"]


def test_nothing_is_selected_without_selection_or_default():
    catalog = discovered()
    for e in catalog["streams"]:
        top_metadata(e).pop("selected-by-default")
    assert selected_streams(catalog) == []


def test_legacy_selected_on_the_entry_and_on_the_schema():
    catalog = discovered()
    for e in catalog["streams"]:
        top_metadata(e).pop("selected-by-default")
    entry(catalog, "user")["selected"] = True
    entry(catalog, "calls")["schema"]["selected"] = True
    assert sorted(s.name for s in selected_streams(catalog)) == ["calls", "user"]


def test_metadata_selection_wins_over_legacy_flags():
    catalog = discovered()
    set_top(catalog, "calls", selected=False)
    entry(catalog, "calls")["selected"] = True
    assert [s.name for s in selected_streams(catalog)] == ["user"]


def test_replication_method_full_table_turns_off_incremental():
    catalog = discovered()
    set_top(catalog, "calls", selected=True, replication_method=FULL_TABLE)
    (calls, _user) = selected_streams(catalog)
    assert calls.incremental is False and calls.cursor == "call_datetime"
    configured = airbyte_configured_catalog([calls])["streams"][0]
    assert configured["sync_mode"] == "full_refresh" and "cursor_field" not in configured


def test_incremental_asked_for_a_stream_without_cursor_reads_it_in_full_with_a_warning():
    catalog = discovered()
    set_top(catalog, "user", selected=True, replication_method=INCREMENTAL)
    warnings = []
    user = selected_streams(catalog, warn=warnings.append)[1]
    assert user.incremental is False
    assert warnings == [f"Stream user cannot be read incrementally; reading it in full ({FULL_TABLE})."]


def test_deselected_properties_leave_schema_and_records_but_automatic_ones_stay():
    catalog = discovered()
    calls = entry(catalog, "calls")
    for m in calls["metadata"]:
        if m["breadcrumb"]:
            m["metadata"]["selected"] = False  # as Meltano writes for `select: [calls.record_id]`
    (selection, _user) = selected_streams(catalog)
    assert selection.dropped == {"phone"}
    assert list(selection.singer_schema()["properties"]) == ["record_id", "call_datetime"]
    translator = Translator([selection])
    record = translator.translate(
        {
            "type": "RECORD",
            "record": {"stream": "calls", "emitted_at": 0, "data": {"record_id": "1", "call_datetime": "x", "phone": "7999"}},
        }
    )
    assert record["record"] == {"record_id": "1", "call_datetime": "x"}


# ---- what the Airbyte source receives -----------------------------------------------------------
def test_configured_catalog_for_the_airbyte_source():
    configured = airbyte_configured_catalog(selected_streams(discovered()))
    assert [(s["stream"]["name"], s["sync_mode"], s.get("cursor_field")) for s in configured["streams"]] == [
        ("calls", "incremental", ["call_datetime"]),
        ("user", "full_refresh", None),
    ]
    calls = configured["streams"][0]["stream"]
    assert calls["source_defined_primary_key"] == [["record_id"]] and calls["default_cursor_field"] == ["call_datetime"]
    assert calls["supported_sync_modes"] == ["full_refresh", "incremental"]
    assert configured["streams"][1]["stream"]["supported_sync_modes"] == ["full_refresh"]


def test_singer_bookmarks_become_airbyte_stream_states_for_incremental_streams_only():
    streams = selected_streams(discovered())
    state = {"bookmarks": {"calls": {"call_datetime": "2024-04-01 00:00:00"}, "user": {"x": 1}, "gone": {"y": 2}}}
    assert airbyte_state(state, streams) == [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "calls"}, "stream_state": {"call_datetime": "2024-04-01 00:00:00"}},
        }
    ]
    assert airbyte_state({}, streams) == []


# ---- Airbyte messages -> Singer messages ---------------------------------------------------------
def test_schema_messages_carry_key_and_bookmark_properties():
    translator = Translator(selected_streams(discovered()))
    assert translator.schema_messages() == [
        {
            "type": "SCHEMA",
            "stream": "calls",
            "schema": AIRBYTE_CATALOG["streams"][0]["json_schema"],
            "key_properties": ["record_id"],
            "bookmark_properties": ["call_datetime"],
        },
        {
            "type": "SCHEMA",
            "stream": "user",
            "schema": AIRBYTE_CATALOG["streams"][1]["json_schema"],
            "key_properties": ["id"],
            "bookmark_properties": [],
        },
    ]


def test_state_round_trip_keeps_other_streams_bookmarks_and_ignores_full_table_states():
    given = {"bookmarks": {"calls": {"call_datetime": "2024-01-01 00:00:00"}, "not_synced_now": {"c": "keep me"}}}
    original = copy.deepcopy(given)
    translator = Translator(selected_streams(discovered()), given)
    assert translator.translate(state_message("user", {"__ab_no_cursor_state_message": True})) is None
    singer = translator.translate(state_message("calls", {"call_datetime": "2024-04-30 22:50:17"}))
    assert singer == {
        "type": "STATE",
        "value": {"bookmarks": {"calls": {"call_datetime": "2024-04-30 22:50:17"}, "not_synced_now": {"c": "keep me"}}},
    }
    assert given == original
    # What the tap printed is what it accepts back: the same Airbyte state goes to the source.
    assert airbyte_state(singer["value"], selected_streams(discovered()))[0]["stream"]["stream_state"] == {
        "call_datetime": "2024-04-30 22:50:17"
    }


def test_records_logs_and_errors():
    logged = []
    translator = Translator(selected_streams(discovered()), log=logged.append)
    record = translator.translate(
        {"type": "RECORD", "record": {"stream": "user", "data": {"id": 1}, "emitted_at": 1714521600123}}
    )
    assert record == {"type": "RECORD", "stream": "user", "record": {"id": 1}, "time_extracted": "2024-05-01T00:00:00.123Z"}
    assert translator.translate({"type": "RECORD", "record": {"stream": "unselected", "data": {}, "emitted_at": 1}}) is None
    assert translator.translate({"type": "LOG", "log": {"level": "WARN", "message": "slow"}}) is None
    assert translator.translate({"type": "TRACE", "trace": {"type": "ERROR", "error": {"message": "Bad key."}}}) is None
    assert translator.translate({"type": "TRACE", "trace": {"type": "STREAM_STATUS"}}) is None
    assert logged == ["WARN slow", "ERROR Bad key."]
    assert translator.errors == ["Bad key."]


def test_sync_without_selected_streams_prints_nothing(tmp_path):
    from source_calltracking.singer import sync

    catalog = discovered()
    for e in catalog["streams"]:
        set_top(catalog, e["stream"], selected=False)
    out, logged = io.StringIO(), []
    sync(str(tmp_path / "unused.json"), catalog, {}, out, logged.append)
    assert out.getvalue() == ""
    assert logged == ["WARNING No stream is selected in the catalog: nothing to sync."]


def state_message(stream, value):
    return {
        "type": "STATE",
        "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": value}},
    }


def test_legacy_property_deselection_and_unsupported_properties():
    catalog = discovered()
    entry(catalog, "calls")["schema"]["properties"]["phone"]["selected"] = False
    entry(catalog, "calls")["schema"]["properties"]["record_id"]["selected"] = False  # a key: always sent
    user = entry(catalog, "user")
    next(m for m in user["metadata"] if m["breadcrumb"] == ["properties", "name"])["metadata"]["inclusion"] = "unsupported"
    calls, user_selection = selected_streams(catalog)
    assert calls.dropped == {"phone"} and user_selection.dropped == {"name"}


def test_a_short_write_to_stdout_loses_no_singer_message():
    """Under PYTHONUNBUFFERED the tap's stdout buffer is the raw file, whose write may take part of a
    line (see source_calltracking/stdout.py); a record above the pipe's atomic 4 KB arrives whole."""
    raw = ShortWrites(limit=1000)
    write = _writer(io.TextIOWrapper(raw, encoding="utf-8", write_through=True))
    messages = [{"type": "RECORD", "stream": "calls", "record": {"n": n, "text": "звонок " * 900}} for n in range(5)]
    for message in messages:
        write(message)
    write({"type": "STATE", "value": {"bookmarks": {}}}, flush=True)
    lines = raw.data.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [*messages, {"type": "STATE", "value": {"bookmarks": {}}}]

"""What the agency tests (test_agency.py) share: a config of the UIS agent (partner) token, the emulator's
truth per client over the range a config names, the records and state of a sync per client, and the
date windows the emulator was asked per client, as UTC instants."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from integration_tests.uis.helpers import FMT, METHODS, uis
from testkit.connector import final_state
from testkit.emulator.timeline import iso_z, parse_utc
from testkit.emulator.world import UIS_CLIENTS, uis_agent_block, world_config

BY_ID = {client["user_id"]: client for client in UIS_CLIENTS}
YEKATERINBURG, RIGA, FORBIDDEN = (client["user_id"] for client in UIS_CLIENTS)
ALLOWED = [c["user_id"] for c in UIS_CLIENTS if not c["forbidden"]]
assert FORBIDDEN not in ALLOWED and BY_ID[FORBIDDEN]["forbidden"]
KEY = {"uis_financial_call_legs": "leg_id", "uis_api_requests": "request_id"}  # `expected` keys by these; else `id`
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


def agent_config(emulator, user_ids: Any = "all", **overrides: Any) -> dict[str, Any]:
    """A config with only the `uis` block, for the agent token (`user_ids` a list or "all")."""
    config = world_config(emulator, ["uis"], **overrides)
    config["uis"] = uis_agent_block(emulator, user_ids)
    return config


def utc_range(config: dict[str, Any]) -> tuple:
    """[since, until) in UTC of what a config asks for: `start_date` (a date is 00:00 UTC) up to and
    including `end_date` (a date: that whole day; a date-time: that second, the README's reading)."""
    since = parse_utc(config["start_date"])
    end = config["end_date"]
    until = parse_utc(end) + DAY if len(end) == 10 else parse_utc(end) + SECOND
    return since, until


def truth(emulator, stream: str, user_id: int, since: Any, until: Any) -> dict[int, str]:
    """{key: UTC instant "…Z"} of the client's rows of the stream with since <= time < until."""
    return uis(emulator).expected(METHODS[stream], since, until, user_id=user_id)


def truth_of(emulator, config: dict[str, Any], stream: str, user_id: int) -> dict[int, str]:
    return truth(emulator, stream, user_id, *utc_range(config))


def by_client(output, stream: str) -> dict[int | None, list[dict]]:
    """The records of one stream of a sync, by their `user_id`."""
    found: dict[int | None, list[dict]] = defaultdict(list)
    for message in output.records:
        if message.record.stream == stream:
            found[message.record.data.get("user_id")].append(message.record.data)
    return dict(found)


def keys(records: Iterable[dict], stream: str) -> list[int]:
    return sorted(record[KEY.get(stream, "id")] for record in records)


def cursors(output, stream: str) -> dict[int, str]:
    """The final state of a stream as {user_id: cursor}; asserts it is kept per client partition. (The CDK
    also writes the latest of them as `state`; the connector drops that on reading a state, see
    migrations.EveryAccountFromItsOwnState, and test 4 proves an added client does not start from it.)"""
    state = final_state(output, stream)
    assert "states" in state and not state.get("use_global_cursor"), state
    found = {}
    for entry in state["states"]:
        assert set(entry["partition"]) == {"user_id"}, entry
        found[entry["partition"]["user_id"]] = entry["cursor"]["event_time_utc"]
    return found


def asked_from(emulator, method: str, user_id: int) -> list[dt.datetime]:
    """The `date_from` of every request of `method` for the client, read in the client's zone, as UTC."""
    zone = ZoneInfo(BY_ID[user_id]["timezone"])
    return sorted(
        dt.datetime.strptime(body["params"]["date_from"], FMT).replace(tzinfo=zone).astimezone(dt.UTC)
        for body in uis(emulator).log
        if body.get("method") == method and body["params"].get("user_id") == user_id
    )


def z(moment: dt.datetime) -> str:
    return iso_z(moment)

"""Every record carries every key the API sent, nulls included, on all 22 streams, Airbyte and Singer
alike; and the fields the connector adds are in every record.

Regression: the CDK's message serializer dropped every key whose value was null, so a record lacked
each field the API had sent as null, and the set of keys changed from record to record.

The oracle is what the emulator actually sent (its answers are logged), not what the test expects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode

from testkit.connector import error_messages, records_by_stream, run_discover, run_read
from testkit.emulator.uis import TABLE
from testkit.emulator.variation import session_variation
from testkit.emulator.world import build_world, world_config

TAP = str(Path(sys.executable).with_name("tap-calltracking"))
CKCT_STREAMS = {
    "get": "calltracking_calls",
    "getByRole": "calltracking_calls_by_role",
    "getWithRole": "calltracking_calls_with_role",
}
CALLKEEPER_STREAMS = {
    "getCallsInfo": "callkeeper_calls",
    "getCallsCompleted": "callkeeper_completed_calls",
    "getCallsByStatus": "callkeeper_calls_by_status",
    "getT2C": "callkeeper_tap2calls",
    "getUserInfo": "callkeeper_user",
}
UIS_KEYS = {
    "uis_financial_call_legs": ("call_session_id", "leg_id"),
    "uis_chat_messages": ("chat_id", "date_time", "source", "text"),
    "uis_financial_summary": ("date",),
    "uis_api_requests": ("date_time", "request_id", "method", "ip_address"),
}
UIS_DIRECTORY_METHODS = ("get.account", "get.customer_users")  # the account's zone and an agent's clients: no stream's records
ADDED_BY_PROVIDER = (  # 0.2.0 (agencies and time zones): which account a record is of, and its instant in UTC
    ("calltracking_", ("event_time_utc", "account")),
    ("callkeeper_", ("event_time_utc", "account")),
    ("ria_", ("event_time_utc", "account")),
    ("uis_", ("event_time_utc", "user_id")),
)
UNDATED = ("callkeeper_user",)  # the one stream without an event time
ADDED = {  # the fields the connector adds, besides `_invalid_fields` (every stream) and ADDED_BY_PROVIDER
    **{stream: ("record_id", "call_datetime") for stream in CKCT_STREAMS.values()},
    **{
        stream: ("status_title", "status_description")
        for stream in ("callkeeper_calls", "callkeeper_completed_calls", "callkeeper_calls_by_status")
    },
    "uis_financial_summary": ("year", "month"),
}


def added_fields(stream: str) -> tuple[str, ...]:
    by_provider = next(fields for prefix, fields in ADDED_BY_PROVIDER if stream.startswith(prefix))
    if stream in UNDATED:
        by_provider = tuple(f for f in by_provider if f != "event_time_utc")
    return ("_invalid_fields", *by_provider, *ADDED.get(stream, ()))


def sent_records(emulator) -> dict[str, dict[Any, dict]]:
    """{stream: {key: a record as the emulator sent it}} from the answers it logged."""
    sent: dict[str, dict[Any, dict]] = {}
    for logged in emulator.log:
        if logged.status != 200 or not logged.answer:
            continue
        body = json.loads(logged.answer)
        for stream, key, record in _records_of(logged, body):
            sent.setdefault(stream, {})[key] = record
    return sent


def _records_of(logged, body) -> Iterable[tuple[str, Any, dict]]:
    if logged.vendor == "ckct":
        stream = CKCT_STREAMS[logged.query.split("/")[4]]
        for call in body if isinstance(body, list) else body.get("payload") or []:
            yield stream, str(call.get("universalId") or call.get("callId")), call
    elif logged.vendor == "callkeeper":
        stream = CALLKEEPER_STREAMS[logged.path.strip("/")]
        if stream == "callkeeper_user":
            user = body[0] if isinstance(body, list) else body.get("result", body)
            yield stream, "user", user
            return
        found = body.get("result", body) if isinstance(body, dict) else body
        for call in found.values() if isinstance(found, dict) else found:
            yield stream, str(call["id"]), call
    elif logged.vendor == "ria":
        for call in body:
            yield "ria_calls", str(call["call_id"]), call
    elif logged.vendor == "uis":
        method = json.loads(logged.body)["method"]
        if method in UIS_DIRECTORY_METHODS:
            return
        stream = TABLE[method]["stream"]
        for row in (body.get("result") or {}).get("data") or []:
            yield stream, _uis_key(stream, row), row


def _uis_key(stream: str, row: dict) -> Any:
    return tuple(str(row.get(k)) for k in UIS_KEYS.get(stream, ("id",)))


def key_of(stream: str, record: dict) -> Any:
    if stream in CKCT_STREAMS.values():
        return record["record_id"]
    if stream == "callkeeper_user":
        return "user"
    if stream.startswith("callkeeper_"):
        return str(record["id"])
    if stream == "ria_calls":
        return str(record["call_id"])
    return _uis_key(stream, record)


def check_every_key(got: dict[str, list[dict]], sent: dict[str, dict[Any, dict]]) -> int:
    """Asserts the rule on every record; returns how many nulls the API sent (so that the test is not vacuous)."""
    nulls = 0
    for stream, records in got.items():
        added = added_fields(stream)
        for record in records:
            missing = [field for field in added if field not in record]
            assert not missing, f"{stream}: a record lacks the connector's field(s) {missing}"
            original = sent[stream][key_of(stream, record)]
            lost = sorted(set(original) - set(record))
            assert not lost, f"{stream}: keys the API sent are missing from the record: {lost}"
            for field, value in original.items():
                if value is None:
                    nulls += 1
                    assert record[field] is None, f"{stream}: `{field}` was sent as null, the record has {record[field]!r}"
    return nulls


@pytest.fixture(scope="module")
def world():
    """Optional fields sent as null (one in four, record by record), undocumented extra fields, and
    this session's seed for every other choice; the UIS API v3.0 methods answer too."""
    with build_world(variation=session_variation().but(optional_fields="null", extra_fields=True)) as emulator:
        emulator.vendors["uis"].v3_implemented = True
        emulator.keep_answers = True
        yield emulator


@pytest.fixture(scope="module")
def config(world):
    return world_config(world, start_date="2024-01-01", end_date="2024-01-31")


@pytest.fixture(scope="module")
def streams(config):
    return [s.name for s in run_discover(config).catalog.catalog.streams]


def test_every_airbyte_record_has_every_key_the_api_sent(world, config, streams):
    world.clear_log()
    output = run_read(config, streams, sync_mode=SyncMode.full_refresh)
    assert not output.errors, error_messages(output)
    got = records_by_stream(output)
    assert sorted(got) == sorted(streams) and len(streams) == 22, "every stream has records to check"
    assert check_every_key(got, sent_records(world)) > 100
    extras = [r for records in got.values() for r in records if "x_unlisted_flag" in r]
    assert extras, "undocumented fields are passed through"


def test_every_singer_record_has_every_key_the_api_sent(world, config, streams, tmp_path):
    world.clear_log()
    (tmp_path / "config.json").write_text(json.dumps(config))
    discovered = subprocess.run(
        [TAP, "--config", str(tmp_path / "config.json"), "--discover"], capture_output=True, text=True, timeout=300
    )
    (tmp_path / "catalog.json").write_text(discovered.stdout)
    done = subprocess.run(
        [TAP, "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got: dict[str, list[dict]] = {}
    for line in done.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            got.setdefault(message["stream"], []).append(message["record"])
    assert sorted(got) == sorted(streams)
    assert check_every_key(got, sent_records(world)) > 100

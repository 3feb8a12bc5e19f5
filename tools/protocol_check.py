"""Assertions on the Airbyte protocol output of one connector command, for tools/container_smoke_test.sh.

    python tools/protocol_check.py spec OUTPUT
    python tools/protocol_check.py check OUTPUT SUCCEEDED|FAILED [MESSAGE_START]
    python tools/protocol_check.py discover OUTPUT EXPECTED_DISCOVER_OUTPUT   # same stream names
    python tools/protocol_check.py catalog DISCOVER_OUTPUT > configured_catalog.json
    python tools/protocol_check.py read OUTPUT CONFIGURED_CATALOG             # records > 0 per stream
                                                 # (but the empty_streams of acceptance-test-config.yml)
    python tools/protocol_check.py large OUTPUT EMULATOR_SUMMARY  # an answer over the temporary-file
                                                 # threshold, and every record the emulator holds, once

Each command prints one line saying what it found and exits non-zero (with the reason) when the
output is not what it should be. Only the standard library: it runs with any Python 3.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ACCEPTANCE_CONFIG = Path(__file__).resolve().parent.parent / "acceptance-test-config.yml"


def messages(path: str) -> list[dict]:
    found = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                fail(f"{path}:{number} is not a JSON protocol message: {line[:200]}")
            if not isinstance(message, dict) or "type" not in message:
                fail(f"{path}:{number} is not an Airbyte message: {line[:200]}")
            found.append(message)
    return found


def of_type(found: list[dict], kind: str) -> list[dict]:
    return [m for m in found if m["type"] == kind]


def errors(found: list[dict]) -> list[str]:
    return [m["trace"]["error"].get("message", "") for m in of_type(found, "TRACE") if m["trace"].get("type") == "ERROR"]


def fail(reason: str) -> None:
    print(f"FAILED: {reason}", file=sys.stderr)
    sys.exit(1)


def single(found: list[dict], kind: str) -> dict:
    matching = of_type(found, kind)
    if len(matching) != 1:
        fail(f"expected exactly one {kind} message, got {len(matching)} (errors: {errors(found)})")
    return matching[0]


def stream_names(found: list[dict]) -> list[str]:
    return sorted(s["name"] for s in single(found, "CATALOG")["catalog"]["streams"])


def cmd_spec(path: str) -> None:
    spec = single(messages(path), "SPEC")["spec"]
    properties = spec.get("connectionSpecification", {}).get("properties", {})
    if "start_date" not in properties:
        fail("the SPEC has no start_date property")
    print(f"spec: SPEC present, {len(properties)} top-level properties")


def cmd_check(path: str, expected: str, message_start: str = "") -> None:
    status = single(messages(path), "CONNECTION_STATUS")["connectionStatus"]
    if status["status"] != expected:
        fail(f"check status {status['status']} (expected {expected}): {status.get('message')}")
    if message_start and not (status.get("message") or "").startswith(message_start):
        fail(f"check message {status.get('message')!r} does not start with {message_start!r}")
    print(f"check: {status['status']}" + (f" ({status['message']})" if status.get("message") else ""))


def cmd_discover(path: str, expected_path: str) -> None:
    names, expected = stream_names(messages(path)), stream_names(messages(expected_path))
    if not names:
        fail("discover returned no streams")
    if names != expected:
        fail(f"the image discovers {names}, the package on the host {expected}")
    print(f"discover: {len(names)} streams: {', '.join(names)}")


def cmd_catalog(discover_path: str) -> None:
    streams = []
    for stream in single(messages(discover_path), "CATALOG")["catalog"]["streams"]:
        incremental = "incremental" in stream.get("supported_sync_modes", [])
        streams.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append_dedup" if stream.get("source_defined_primary_key") else "append",
                **(
                    {"cursor_field": stream["default_cursor_field"]} if incremental and stream.get("default_cursor_field") else {}
                ),
            }
        )
    json.dump({"streams": streams}, sys.stdout)


def documented_empty_streams() -> set[str]:
    """The `empty_streams` of acceptance-test-config.yml (streams whose API method is not offered),
    read without a YAML library: the `- name:` lines of that block."""
    names, inside = set(), False
    for line in ACCEPTANCE_CONFIG.read_text(encoding="utf-8").splitlines():
        if line.strip() == "empty_streams:":
            inside, indent = True, len(line) - len(line.lstrip())
            continue
        if inside:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                inside = False
                continue
            found = re.match(r"\s*- name:\s*(\S+)", line)
            if found:
                names.add(found.group(1))
    return names


def cmd_read(path: str, catalog_path: str) -> None:
    found = messages(path)
    problems = errors(found)
    if problems:
        fail(f"read reported errors: {problems}")
    with open(catalog_path, encoding="utf-8") as handle:
        wanted = [s["stream"]["name"] for s in json.load(handle)["streams"]]
    counts: dict[str, int] = Counter(m["record"]["stream"] for m in of_type(found, "RECORD"))
    allowed_empty = documented_empty_streams()
    empty = [name for name in wanted if counts.get(name, 0) == 0 and name not in allowed_empty]
    if empty:
        fail(f"no records for {empty} (records per stream: {dict(counts)})")
    states = Counter(m["state"].get("stream", {}).get("stream_descriptor", {}).get("name") for m in of_type(found, "STATE"))
    without_state = [name for name in wanted if states.get(name, 0) == 0]
    if without_state:
        fail(f"no STATE message for {without_state}")
    print("read: " + ", ".join(f"{name}={counts[name]}" for name in wanted) + f" records; {sum(states.values())} state messages")


def cmd_large(path: str, summary_path: str) -> None:
    """A read of one stream from an emulator that sent at least one answer over the connector's
    threshold for reading an answer from a temporary file. EMULATOR_SUMMARY, written by the emulator
    when it stopped: `stream`, `id_field`, `threshold_bytes`, `expected_ids` (every record it holds
    for the config's dates) and `answers` (the status and size in bytes of every answer it sent)."""
    with open(summary_path, encoding="utf-8") as handle:
        summary = json.load(handle)
    stream, id_field, threshold = summary["stream"], summary["id_field"], summary["threshold_bytes"]
    found = messages(path)
    problems = errors(found)
    if problems:
        fail(f"the large read reported errors: {problems}")
    answers = summary["answers"]
    if not answers or any(answer["status"] != 200 for answer in answers):
        fail(f"the emulator's answers were not all HTTP 200: {answers}")
    largest = max(answer["bytes"] for answer in answers)
    if largest <= threshold:
        fail(f"the largest answer was {largest} bytes, not over {threshold}: the temporary-file path was not taken")
    records = [m["record"] for m in of_type(found, "RECORD")]
    others = sorted({r["stream"] for r in records} - {stream})
    if others:
        fail(f"records of other streams than {stream}: {others}")
    expected = Counter(summary["expected_ids"])
    if not expected:
        fail("the emulator held no records")
    arrived = Counter(r["data"].get(id_field) for r in records)
    if arrived != expected:
        missing, extra = expected - arrived, arrived - expected
        fail(
            f"{stream}: {len(records)} records, the emulator holds {sum(expected.values())}; "
            f"{sum(missing.values())} missing (e.g. {sorted(missing)[:5]}), "
            f"{sum(extra.values())} unexpected or repeated (e.g. {sorted(extra, key=str)[:5]})"
        )
    states = [
        m for m in of_type(found, "STATE") if m["state"].get("stream", {}).get("stream_descriptor", {}).get("name") == stream
    ]
    if not states:
        fail(f"no STATE message for {stream}")
    print(
        f"large read: {stream}={len(records)} records, every {id_field} the emulator holds, once each; "
        f"{len(answers)} answer(s), the largest {largest / 2**20:.1f} MiB (over the {threshold / 2**20:g} MiB "
        f"beyond which an answer is read from a temporary file); {len(states)} state messages"
    )


COMMANDS = {
    "spec": cmd_spec,
    "check": cmd_check,
    "discover": cmd_discover,
    "catalog": cmd_catalog,
    "read": cmd_read,
    "large": cmd_large,
}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    COMMANDS[sys.argv[1]](*sys.argv[2:])

"""`tap-calltracking`: the connector as a Singer tap, for Meltano and any other Singer runner.

    tap-calltracking --config config.json --discover > catalog.json
    tap-calltracking --config config.json --catalog catalog.json [--state state.json]

It takes the same config JSON as the Airbyte source and runs that source (`source-calltracking`,
its entry point and output filter, so every credential stays masked) in a child process, then
translates what it prints:

- discover: one catalog entry per Airbyte stream, with `key_properties`, and metadata at
  `breadcrumb: []` (`table-key-properties`, `valid-replication-keys`, `forced-replication-method`
  for full-refresh-only streams, `selected-by-default`) and per property (`inclusion`).
- sync: the streams selected in the catalog (`selected` at `breadcrumb: []`, or the legacy
  `selected` on the entry or its schema; else `selected-by-default`), each `INCREMENTAL` unless
  its `replication-method` says `FULL_TABLE` or it has no cursor. Properties deselected in the
  metadata are left out of SCHEMA and RECORD messages. It writes a SCHEMA message per stream
  (`key_properties`, `bookmark_properties`), then RECORD and STATE messages.
- state: `{"bookmarks": {"<stream>": <the Airbyte stream state>}}`; `--state` takes it back, and
  bookmarks of streams not synced this time are kept.

Logs and errors go to stderr; the exit code is 1 when the sync did not finish.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from source_calltracking.stdout import write_bytes, write_text

INCREMENTAL = "INCREMENTAL"
FULL_TABLE = "FULL_TABLE"
EXIT = "_EXIT"  # not a protocol message: the end of the source process, with its exit code


# ---- discover ------------------------------------------------------------------------------
def singer_catalog(airbyte_catalog: Mapping[str, Any]) -> dict[str, Any]:
    """The Singer catalog of an Airbyte catalog (the `catalog` of its CATALOG message)."""
    entries = []
    for stream in airbyte_catalog["streams"]:
        name = stream["name"]
        schema = stream["json_schema"]
        keys = [path[0] for path in stream.get("source_defined_primary_key") or [] if len(path) == 1]
        cursor = ".".join(stream.get("default_cursor_field") or [])
        incremental = "incremental" in (stream.get("supported_sync_modes") or []) and bool(cursor)
        top: dict[str, Any] = {"inclusion": "available", "selected-by-default": True, "table-key-properties": keys}
        if incremental:
            top["valid-replication-keys"] = [cursor]
        else:
            top["forced-replication-method"] = FULL_TABLE
        metadata = [{"breadcrumb": [], "metadata": top}]
        for prop in schema.get("properties") or {}:
            automatic = prop in keys or (incremental and prop == cursor)
            metadata.append(
                {
                    "breadcrumb": ["properties", prop],
                    "metadata": {"inclusion": "automatic" if automatic else "available", "selected-by-default": True},
                }
            )
        entry = {
            "tap_stream_id": name,
            "stream": name,
            "schema": schema,
            "key_properties": keys,
            "replication_method": INCREMENTAL if incremental else FULL_TABLE,
            "metadata": metadata,
        }
        if incremental:
            entry["replication_key"] = cursor
        entries.append(entry)
    return {"streams": entries}


# ---- the catalog's selection ------------------------------------------------------------------
@dataclass
class Selected:
    """A stream the Singer catalog selects, and how to sync it."""

    name: str
    schema: dict[str, Any]
    key_properties: list[str]
    cursor: str | None  # None when the stream cannot be read incrementally
    incremental: bool
    dropped: frozenset = field(default_factory=frozenset)  # properties deselected in the metadata

    def singer_schema(self) -> dict[str, Any]:
        if not self.dropped:
            return self.schema
        properties = {k: v for k, v in (self.schema.get("properties") or {}).items() if k not in self.dropped}
        return {**self.schema, "properties": properties}


def selected_streams(catalog: Mapping[str, Any], warn: Callable[[str], None] = lambda _: None) -> list[Selected]:
    """The streams a Singer catalog (`--catalog` or `--properties`) selects, in catalog order."""
    selected = []
    for entry in catalog.get("streams") or []:
        name = entry.get("tap_stream_id") or entry["stream"]
        schema = entry.get("schema") or {}
        metadata = {tuple(m.get("breadcrumb") or ()): m.get("metadata") or {} for m in entry.get("metadata") or []}
        top = metadata.get((), {})
        if not _first_set(
            top.get("selected"), entry.get("selected"), schema.get("selected"), top.get("selected-by-default"), False
        ):
            continue
        keys = list(_first_set(top.get("table-key-properties"), entry.get("key_properties"), []))
        cursor = _first_set(*(top.get("valid-replication-keys") or [])[:1], entry.get("replication_key"), None)
        can_increment = bool(cursor) and top.get("forced-replication-method") != FULL_TABLE
        method = str(
            _first_set(
                top.get("replication-method"), entry.get("replication_method"), INCREMENTAL if can_increment else FULL_TABLE
            )
        ).upper()
        if method != FULL_TABLE and not can_increment:
            warn(f"Stream {name} cannot be read incrementally; reading it in full ({FULL_TABLE}).")
        elif method not in (INCREMENTAL, FULL_TABLE):
            warn(f"Stream {name}: replication method {method} is not supported; using {INCREMENTAL}.")
        dropped = frozenset(
            prop
            for prop, definition in (schema.get("properties") or {}).items()
            if _deselected(metadata.get(("properties", prop), {}), definition)
        )
        selected.append(
            Selected(name, schema, keys, cursor if can_increment else None, can_increment and method != FULL_TABLE, dropped)
        )
    return selected


def _deselected(metadata: Mapping[str, Any], definition: Any) -> bool:
    """A property left out: `unsupported`, or `selected: false` (metadata, or legacy in its schema)
    unless its inclusion is `automatic` (keys and the cursor are always sent)."""
    if metadata.get("inclusion") == "automatic":
        return False
    legacy = definition.get("selected") if isinstance(definition, dict) else None
    return metadata.get("inclusion") == "unsupported" or _first_set(metadata.get("selected"), legacy, True) is False


def _first_set(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


# ---- what the Airbyte source gets -------------------------------------------------------------
def airbyte_configured_catalog(streams: list[Selected]) -> dict[str, Any]:
    configured = []
    for s in streams:
        airbyte_stream = {
            "name": s.name,
            "json_schema": s.schema,
            "supported_sync_modes": ["full_refresh", "incremental"] if s.cursor else ["full_refresh"],
            "source_defined_cursor": bool(s.cursor),
            "default_cursor_field": [s.cursor] if s.cursor else [],
            "source_defined_primary_key": [[k] for k in s.key_properties],
        }
        item = {
            "stream": airbyte_stream,
            "sync_mode": "incremental" if s.incremental else "full_refresh",
            "destination_sync_mode": "append",
        }
        if s.incremental:
            item["cursor_field"] = [s.cursor]
        configured.append(item)
    return {"streams": configured}


def airbyte_state(singer_state: Mapping[str, Any], streams: list[Selected]) -> list[dict[str, Any]]:
    """The Airbyte per-stream state of the incremental streams that have a bookmark."""
    bookmarks = singer_state.get("bookmarks") or {}
    return [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": s.name}, "stream_state": bookmarks[s.name]}}
        for s in streams
        if s.incremental and isinstance(bookmarks.get(s.name), dict) and bookmarks[s.name]
    ]


# ---- Airbyte messages -> Singer messages -------------------------------------------------------
class Translator:
    """Turns the Airbyte source's messages into Singer messages; keeps the bookmarks."""

    def __init__(
        self, streams: list[Selected], state: Mapping[str, Any] | None = None, log: Callable[[str], None] = lambda _: None
    ) -> None:
        self.streams = {s.name: s for s in streams}
        self.bookmarks: dict[str, Any] = dict((state or {}).get("bookmarks") or {})
        self.log = log
        self.errors: list[str] = []

    def schema_messages(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "SCHEMA",
                "stream": s.name,
                "schema": s.singer_schema(),
                "key_properties": s.key_properties,
                "bookmark_properties": [s.cursor] if s.incremental else [],
            }
            for s in self.streams.values()
        ]

    def state_message(self) -> dict[str, Any]:
        return {"type": "STATE", "value": {"bookmarks": dict(self.bookmarks)}}

    def translate(self, message: Mapping[str, Any]) -> dict[str, Any] | None:
        """The Singer message for one Airbyte message, or None (logs and errors go to `log`)."""
        kind = message.get("type")
        if kind == "RECORD":
            record = message["record"]
            stream = self.streams.get(record["stream"])
            if stream is None:
                return None
            data = record["data"]
            if stream.dropped:
                data = {k: v for k, v in data.items() if k not in stream.dropped}
            singer = {"type": "RECORD", "stream": stream.name, "record": data}
            if record.get("emitted_at"):
                singer["time_extracted"] = _iso(record["emitted_at"])
            return singer
        if kind == "STATE":
            state = message["state"]
            if state.get("type", "STREAM") != "STREAM" or "stream" not in state:
                self.log(f"WARNING a {state.get('type')} state message is not supported by the Singer translation; ignored")
                return None
            name = state["stream"]["stream_descriptor"]["name"]
            stream = self.streams.get(name)
            if stream is None or not stream.incremental:
                return None
            self.bookmarks[name] = state["stream"].get("stream_state") or {}
            return self.state_message()
        if kind == "LOG":
            self.log(f"{message['log'].get('level', 'INFO')} {message['log'].get('message', '')}")
        elif kind == "TRACE" and message["trace"].get("type") == "ERROR":
            error = message["trace"]["error"]
            self.errors.append(error.get("message") or "The sync failed.")
            self.log(f"ERROR {self.errors[-1]}")
        elif kind == EXIT and message["code"] != 0 and not self.errors:
            self.errors.append(f"The Airbyte source stopped with exit code {message['code']}.")
        return None


def _iso(emitted_at_ms: int) -> str:
    return datetime.fromtimestamp(emitted_at_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- running the Airbyte source ----------------------------------------------------------------
def airbyte_messages(args: list[str]) -> Iterator[dict[str, Any]]:
    """Run `source-calltracking <args>` (same interpreter) and yield its protocol messages, then an
    EXIT pseudo-message with its exit code."""
    process = subprocess.Popen([sys.executable, "-m", "source_calltracking.run", *args], stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    yield {"type": "LOG", "log": {"level": "INFO", "message": line.decode(errors="replace").rstrip()}}
    finally:
        process.stdout.close()
        code = process.wait()
    yield {"type": EXIT, "code": code}


def discover(config_path: str, log: Callable[[str], None]) -> dict[str, Any]:
    catalog = None
    translator = Translator([], log=log)
    for message in airbyte_messages(["discover", "--config", config_path]):
        if message.get("type") == "CATALOG":
            catalog = message["catalog"]
        else:
            translator.translate(message)
    if catalog is None:
        raise TapError(translator.errors[0] if translator.errors else "Discovery returned no catalog.")
    return singer_catalog(catalog)


def sync(config_path: str, catalog: Mapping[str, Any], state: Mapping[str, Any], out, log: Callable[[str], None]) -> None:
    streams = selected_streams(catalog, warn=lambda text: log(f"WARNING {text}"))
    if not streams:
        log("WARNING No stream is selected in the catalog: nothing to sync.")
        return
    translator = Translator(streams, state, log)
    write = _writer(out)
    for message in translator.schema_messages():
        write(message)
    with tempfile.TemporaryDirectory(prefix="tap-calltracking-") as tmp:
        catalog_file = Path(tmp) / "catalog.json"
        catalog_file.write_text(json.dumps(airbyte_configured_catalog(streams)))
        args = ["read", "--config", config_path, "--catalog", str(catalog_file)]
        airbyte = airbyte_state(state, streams)
        if airbyte:
            state_file = Path(tmp) / "state.json"
            state_file.write_text(json.dumps(airbyte))
            args += ["--state", str(state_file)]
        for message in airbyte_messages(args):
            singer = translator.translate(message)
            if singer is not None:
                write(singer, flush=singer["type"] == "STATE")
    write(translator.state_message(), flush=True)
    if translator.errors:
        raise TapError(translator.errors[-1])


def _writer(out):
    buffer = getattr(out, "buffer", None)

    def write(message: Mapping[str, Any], flush: bool = False) -> None:
        line = orjson.dumps(message) + b"\n"
        if buffer is not None:
            write_bytes(buffer, line)  # every byte, also under PYTHONUNBUFFERED: see stdout.py
        else:
            out.write(line.decode())
        if flush:
            out.flush()

    return write


class TapError(Exception):
    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="tap-calltracking", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-c", "--config", required=True, help="the connector config (the same JSON as source-calltracking's)")
    parser.add_argument("-d", "--discover", action="store_true", help="print the Singer catalog")
    parser.add_argument("--catalog", help="Singer catalog with the selected streams")
    parser.add_argument("-p", "--properties", help="legacy name of --catalog")
    parser.add_argument("-s", "--state", help='Singer state: {"bookmarks": {stream: state}}')
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    try:
        if args.discover:
            catalog = json.dumps(discover(args.config, log), indent=2, ensure_ascii=False)
            write_text(sys.stdout, catalog + "\n")  # far above the pipe's atomic 4 KB: see stdout.py
            return
        catalog_path = args.catalog or args.properties
        catalog = _load(catalog_path, "catalog") if catalog_path else discover(args.config, log)
        state = _load(args.state, "state") if args.state else {}
        if not isinstance(state, dict):
            raise TapError('The state file must hold a Singer state object, like {"bookmarks": {...}}.')
        sync(args.config, catalog, state, sys.stdout, log)
    except TapError as error:
        log(f"CRITICAL {error}")
        sys.exit(1)


def _load(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text() or "{}")
    except (OSError, ValueError) as error:
        raise TapError(f"Could not read the {what} file {path}: {error.__class__.__name__}.") from None


if __name__ == "__main__":
    main()

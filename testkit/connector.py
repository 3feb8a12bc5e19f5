"""Helpers the tests share: run the connector in-process and look at what it printed."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Iterable, Mapping
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from airbyte_cdk.logger import AirbyteLogFormatter
from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer, SyncMode
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer as CatalogSerializer
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, make_file
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_calltracking.entrypoint import output_lines
from source_calltracking.entrypoint import source_for as build_source
from source_calltracking.masking import secret_variants
from source_calltracking.messages import keep_tracebacks_out_of_logs
from testkit.emulator.world import secrets_of


def catalog_for(streams: Iterable[str], sync_mode: SyncMode = SyncMode.incremental):
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, sync_mode)
    return builder.build()


def state_for(stream_states: Mapping[str, Mapping[str, Any]]) -> list[AirbyteStateMessage]:
    builder = StateBuilder()
    for name, value in stream_states.items():
        builder.with_stream_state(name, value)
    return builder.build()


def run_command(args: list[str], config: Mapping[str, Any] | None = None) -> EntrypointOutput:
    """Run one command in-process exactly as the CLI does (source built from the files, same
    entrypoint and output filter); with `config`, assert none of its credentials was printed."""
    capture = StringIO()
    handler = logging.StreamHandler(capture)
    handler.setFormatter(AirbyteLogFormatter())
    root = logging.getLogger("")
    root.addHandler(handler)
    if "--debug" not in args:
        keep_tracebacks_out_of_logs()
    lines: list[str] = []
    uncaught = None
    try:
        lines.extend(output_lines(build_source(args), args))
    except Exception as exception:  # the CLI would print it as a TRACE message too
        uncaught = exception
    finally:
        root.removeHandler(handler)
    logged = [line for line in capture.getvalue().split("\n") if line]
    output = EntrypointOutput(messages=lines + [filter_secrets(line) for line in logged], uncaught_exception=uncaught)
    if config is not None:
        printed = "\n".join(lines + logged) + "\n" + (filter_secrets(repr(uncaught)) if uncaught else "")
        assert_no_secrets_in(printed, config)
    return output


def run_read(
    config: Mapping[str, Any],
    streams: Iterable[str],
    state: list[AirbyteStateMessage] | None = None,
    sync_mode: SyncMode = SyncMode.incremental,
) -> EntrypointOutput:
    catalog = catalog_for(streams, sync_mode)
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "read",
            "--config",
            make_file(Path(tmp) / "config.json", dict(config)),
            "--catalog",
            make_file(Path(tmp) / "catalog.json", CatalogSerializer.dump(catalog)),
        ]
        if state is not None:
            args += ["--state", make_file(Path(tmp) / "state.json", [AirbyteStateMessageSerializer.dump(s) for s in state])]
        return run_command(args, config)


def run_check(config: Mapping[str, Any]) -> EntrypointOutput:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["check", "--config", make_file(Path(tmp) / "config.json", dict(config))]
        return run_command(args, config)


def run_discover(config: Mapping[str, Any]) -> EntrypointOutput:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["discover", "--config", make_file(Path(tmp) / "config.json", dict(config))]
        return run_command(args, config)


def connection_status(output: EntrypointOutput):
    statuses = output.connection_status_messages
    assert len(statuses) == 1, f"expected one CONNECTION_STATUS, got {len(statuses)}"
    return statuses[0].connectionStatus


def records_by_stream(output: EntrypointOutput) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for message in output.records:
        out.setdefault(message.record.stream, []).append(message.record.data)
    return out


def final_state(output: EntrypointOutput, stream: str) -> dict[str, Any]:
    """The last state the stream emitted, as a plain dict."""
    states = [m.state.stream for m in output.state_messages if m.state.stream.stream_descriptor.name == stream]
    assert states, f"no state emitted for {stream}"
    return json.loads(json.dumps(states[-1].stream_state.__dict__, default=lambda o: o.__dict__))


def error_messages(output: EntrypointOutput) -> list[str]:
    return [m.trace.error.message for m in output.errors]


def assert_no_secrets_in(printed: str, config: Mapping[str, Any]) -> None:
    """No credential of the config appears in `printed`: none of the forms the connector masks, and,
    checked independently of those, no URL-encoded form and no stretch of 8 characters or more of
    the credential between the characters that string escaping may change (quotes, backslashes,
    non-ASCII), so that an escaped form the masking does not know of is caught too."""
    for secret in secrets_of(dict(config)):
        text = str(secret)
        for variant in secret_variants([secret]):
            assert variant not in printed, "a credential of the config appears in the connector's output"
        for encoded in (quote(text, safe=""), quote_plus(text)):
            assert encoded not in printed, "a URL-encoded credential appears in the connector's output"
        for stretch in re.split(r"""['"\\]|[^\x20-\x7e]""", text):
            assert len(stretch) < 8 or stretch not in printed, "part of a credential appears in the connector's output"

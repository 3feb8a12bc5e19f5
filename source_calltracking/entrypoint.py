"""The Airbyte protocol entry point: readable output, every credential masked, records with every key.

`launch(args)` runs one command (spec, check, discover, read) as the `source-calltracking` command
does: the CDK's entrypoint with the connector's config validation and secret masking, failures
turned into one plain sentence (messages.py), RECORD messages written with their nulls
(`record_line`), and stdout written in batches (`RecordBatcher`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER, is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer, ConnectorSpecification, Type
from airbyte_cdk.sources.utils.schema_helpers import split_config
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets, get_secrets, update_secrets
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking.config_validation import validate_config
from source_calltracking.masking import secret_variants, secrets_in
from source_calltracking.messages import ReadableOutput, keep_tracebacks_out_of_logs
from source_calltracking.source import SourceCalltracking
from source_calltracking.stdout import write_text


def record_line(message: AirbyteMessage) -> str:
    """A RECORD message as a protocol line, with every key of its data, nulls included.

    The CDK serialises messages with `omit_none`, which also drops the keys of a record whose value is
    null (airbytehq/airbyte#36061): a user could not tell "the API sent null" from "no such field",
    and Singer targets saw the set of keys change from record to record.
    """
    record = message.record
    try:
        if record.meta is None and record.file_reference is None:
            body = {"stream": record.stream, "data": record.data, "emitted_at": record.emitted_at}
            if record.namespace is not None:
                body["namespace"] = record.namespace
            return orjson.dumps({"type": "RECORD", "record": body}).decode()
        serialized = AirbyteMessageSerializer.dump(message)
        serialized["record"]["data"] = record.data
        return orjson.dumps(serialized).decode()
    except TypeError:  # a value orjson cannot write: the CDK's own path, with its fallback
        return AirbyteEntrypoint.airbyte_message_to_string(message)


class CalltrackingEntrypoint(AirbyteEntrypoint):
    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        validate_config(split_config(config)[0], source_spec.connectionSpecification)

    @staticmethod
    def set_up_secret_filter(config: Mapping[str, Any], connection_specification: Mapping[str, Any]) -> None:
        update_secrets(secret_variants(get_secrets(connection_specification, config) + secrets_in(config)))

    def run(self, parsed_args: argparse.Namespace) -> Iterable[str]:
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        yield from self._read_keeping_every_key(parsed_args)

    def _read_keeping_every_key(self, parsed_args: argparse.Namespace) -> Iterator[str]:
        """`AirbyteEntrypoint.run` for `read`, step for step, with RECORD messages written by
        `record_line` (the CDK's `run` serialises what `read` yields with its own serialiser)."""
        if getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled():
            self.logger.setLevel(logging.DEBUG)
            logging.getLogger("airbyte").setLevel(logging.DEBUG)
            self.logger.debug("Debug logs enabled")
        else:
            self.logger.setLevel(logging.INFO)
        source_spec = self.source.spec(self.logger)
        try:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ[ENV_REQUEST_CACHE_PATH] = temp_dir  # where the CDK's request cache writes
                config = self.source.configure(self.source.read_config(parsed_args.config), temp_dir)
                yield from self._queued_lines()
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                for message in self.read(source_spec, config, catalog, state):
                    yield record_line(message) if message.type == Type.RECORD else self.airbyte_message_to_string(message)
        finally:
            yield from self._queued_lines()

    def _queued_lines(self) -> Iterator[str]:
        repository = getattr(self.source, "message_repository", None)
        if repository:
            yield from map(self.airbyte_message_to_string, repository.consume_queue())


def source_for(args: list[str]) -> SourceCalltracking:
    """The source of a command line, with its catalog, config and state."""
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceCalltracking(
        catalog=SourceCalltracking.read_catalog(catalog_path) if catalog_path else None,
        config=SourceCalltracking.read_config(config_path) if config_path else None,
        state=SourceCalltracking.read_state(state_path) if state_path else None,
    )


def output_lines(source: SourceCalltracking, args: list[str]) -> Iterator[str]:
    """The protocol messages of one command, as printed lines."""
    entrypoint = CalltrackingEntrypoint(source)
    parsed_args = entrypoint.parse_args(args)
    output = ReadableOutput(debug=bool(getattr(parsed_args, "debug", False)))
    if not output.debug:
        keep_tracebacks_out_of_logs()
    try:
        for line in output.lines(entrypoint.run(parsed_args)):
            # Last line of defence: no configured credential leaves the process, whatever the CDK put in it.
            yield filter_secrets(line)
    except AirbyteTracedException as error:
        output.summarise(error)
        raise


def failure_line(error: Exception, debug: bool = False) -> str:
    """The TRACE message that ends a failed command: one sentence, no stack trace unless --debug."""
    traced = error if isinstance(error, AirbyteTracedException) else AirbyteTracedException.from_exception(error)
    message = traced.as_airbyte_message()
    if not debug and message.trace and message.trace.error:
        message.trace.error.stack_trace = None
    return filter_secrets(AirbyteEntrypoint.airbyte_message_to_string(message))


def _stdout_lock():
    """The lock the CDK's log handler writes under (its stream is PRINT_BUFFER, which writes to the real
    stdout): log lines come from worker threads, and a long one (a --debug response body) written
    while a record is printed would otherwise share the record's line."""
    for logger in (logging.getLogger("airbyte"), logging.getLogger()):
        for handler in logger.handlers:
            lock = getattr(getattr(handler, "stream", None), "lock", None)
            if lock is not None:
                return lock
    return PRINT_BUFFER.lock


RECORD_PREFIX = '{"type":"RECORD"'


class RecordBatcher:
    """Writes RECORD lines to stdout in batches of about BATCH_CHARACTERS, everything else at once.

    Airbyte's images (and many shells) set PYTHONUNBUFFERED, under which every `write` is a system
    call: one per record cost more than a third of a sync's time. A batch is written when it is
    full, when a state, log or trace message comes (so a state is never behind its records, and
    logs come out as they happen), after BATCH_SECONDS, and at the end.
    """

    BATCH_CHARACTERS = 1 << 16
    BATCH_SECONDS = 1.0

    def __init__(self, stream=None) -> None:
        self._stream = stream
        self._lines: list[str] = []
        self._size = 0
        self._since = time.monotonic()
        self._lock = None

    def write(self, line: str) -> None:
        self._lines.append(line)
        self._size += len(line)
        if (
            not line.startswith(RECORD_PREFIX)
            or self._size >= self.BATCH_CHARACTERS
            or time.monotonic() - self._since >= self.BATCH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._lock = self._lock or _stdout_lock()  # the CDK sets up its log handlers when the command starts
            text = "\n".join(self._lines) + "\n"
            self._lines, self._size = [], 0
            with self._lock:
                write_text(self._stream or sys.stdout, text)  # every byte: see stdout.py
        self._since = time.monotonic()


def launch(args: list[str]) -> None:
    """Runs one command as the CLI does, and exits 1 when it failed."""
    debug = "--debug" in args
    output = RecordBatcher()
    try:
        for line in output_lines(source_for(args), args):
            output.write(line)
    except Exception as error:  # printed as the protocol's TRACE message instead of a Python traceback
        output.flush()
        write_text(sys.stdout, failure_line(error, debug) + "\n")  # with --debug, a long stack trace
        sys.exit(1)
    output.flush()
    sys.stdout.flush()

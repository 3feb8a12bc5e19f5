"""Per-record costs of airbyte-cdk 7.39.1 that buy nothing, removed (found with benchmarks/profile.py
and py-spy). Each patch keeps what the CDK accepts, refuses and emits; `apply()` installs them once,
when the source is built.

- `DatetimeParser.parse` runs `datetime.strptime` for every record's cursor value (the concurrent
  cursor observes each record). For the plain ISO shapes the connector's cursors use
  ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d") a value that matches the format exactly
  is read by `datetime.fromisoformat`, which gives the same datetime about ten times faster;
  anything else still goes to `strptime`.
- `SliceHasher.hash` runs for every record too (`StreamSlice.__hash__`, when the cursor looks up the
  record's partition), through the standard library's `json.dumps` with a custom encoder class,
  then sha256. Python's own hash of the slice sorted by orjson is an equally good key, several
  times faster: the hashes only key dictionaries inside the process (which compare the slices
  too) and are never written anywhere.
- `AirbyteEntrypoint.handle_record_counts` builds a stream descriptor for every record to count it;
  here the descriptor of each stream is built once.
- `stream_data_to_airbyte_message`, as the concurrent read calls it for every record (no
  transformer, no schema), matches the record against abstract classes, copies it and runs a
  no-op type transformer before building the message. For a record that is a plain dict the
  message is built directly from it (the dict is the selector's own copy, used by nobody else).
- The queue between the reading threads and the thread that prints holds 10 000 records; with
  UIS rows of a hundred fields that is 100 MB waiting to be printed. 1 000 keeps every worker busy
  (the printer drains it in a tenth of a second) at a tenth of the memory. It is also a C
  `SimpleQueue` with a semaphore for room instead of `queue.Queue`'s two conditions: every record
  passes through it, and that took a tenth of the printing thread's time.

(Caching `StreamSlice.__hash__` per slice was tried and dropped: slices are changed after being
hashed, and streams then lost records.)

Fail safe: each patch first checks that the installed airbyte-cdk is a version it was verified on
(`VERIFIED_CDK_VERSIONS`) and that the function it replaces still has the signature it was written
against. If not, it leaves the CDK alone and logs one line saying which speed-up is off; the sync
is then as the CDK makes it, only slower. `CALLTRACKING_CDK_SPEEDUPS=off` turns them all off (the
benchmark's equivalence test compares both).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import inspect
import logging
import os
import queue
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type
from airbyte_cdk.sources.concurrent_source import concurrent_read_processor
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.utils.slice_hasher import SliceHasher

RECORD_QUEUE_SIZE = 1_000
VERIFIED_CDK_VERSIONS = ("7.39.1",)
SWITCH = "CALLTRACKING_CDK_SPEEDUPS"  # "off": leave the CDK alone
logger = logging.getLogger("airbyte")

_ISO_SHAPES = {
    "%Y-%m-%d %H:%M:%S": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
    "%Y-%m-%dT%H:%M:%S": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),
    # `event_time_utc`, the cursor of most streams since 0.2.0 (fromisoformat reads the `Z` as UTC).
    "%Y-%m-%dT%H:%M:%SZ": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"),
    "%Y-%m-%d": re.compile(r"\d{4}-\d{2}-\d{2}"),
}
_UTC = datetime.UTC


def _fast_parse(original):
    def parse(self: DatetimeParser, date, format: str) -> datetime.datetime:
        shape = _ISO_SHAPES.get(format)
        if shape is not None and isinstance(date, str) and shape.fullmatch(date):
            try:
                parsed = datetime.datetime.fromisoformat(date)
            except ValueError:
                return original(self, date, format)  # e.g. month 13: strptime raises as before
            return parsed.replace(tzinfo=_UTC)
        return original(self, date, format)

    return parse


def _serializable(value: Any) -> Any:
    if hasattr(value, "__json_serializable__"):
        return value.__json_serializable__()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _fast_slice_hash(original):
    def slice_hash(cls, stream_name: str = "<stream name not provided>", stream_slice: Mapping[str, Any] | None = None) -> int:
        if not stream_slice:
            return original(stream_name, stream_slice)
        try:
            text = orjson.dumps(stream_slice, default=_serializable, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return original(stream_name, stream_slice)  # raises the CDK's own error
        return hash((stream_name, text))

    return slice_hash


def _counted_once_per_stream(original):
    descriptors: dict[tuple[str, str | None], HashableStreamDescriptor] = {}

    def handle_record_counts(message: AirbyteMessage, stream_message_count: defaultdict) -> AirbyteMessage:
        record = message.record
        if message.type is not Type.RECORD or record is None:
            return original(message, stream_message_count)
        key = (record.stream, record.namespace)
        descriptor = descriptors.get(key)
        if descriptor is None:
            descriptor = descriptors[key] = HashableStreamDescriptor(name=record.stream, namespace=record.namespace)
        stream_message_count[descriptor] += 1.0
        return message

    return handle_record_counts


def _record_message_directly(original):
    def to_message(
        stream_name: str, data_or_message: Any, transformer: Any = None, schema: Any = None, file_reference: Any = None
    ) -> AirbyteMessage:
        if type(data_or_message) is dict and transformer is None and not schema:
            return AirbyteMessage(
                type=Type.RECORD,
                record=AirbyteRecordMessage(
                    stream=stream_name,
                    data=data_or_message,
                    emitted_at=time.time_ns() // 1_000_000,
                    file_reference=file_reference,
                ),
            )
        arguments = {"transformer": transformer} if transformer is not None else {}
        return original(stream_name, data_or_message, schema=schema, file_reference=file_reference, **arguments)

    return to_message


class _RecordQueue:
    """The CDK's record queue, at most RECORD_QUEUE_SIZE items, with the part of `queue.Queue` the
    CDK uses (put, blocking or not; get; empty). Items go through a C `SimpleQueue`; a semaphore
    counts the free places, so a full queue still holds the reading threads back."""

    def __init__(self, maxsize: int = 0) -> None:
        self.maxsize = min(maxsize, RECORD_QUEUE_SIZE) if maxsize > 0 else RECORD_QUEUE_SIZE
        self._items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._room = threading.Semaphore(self.maxsize)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if not self._room.acquire(block, timeout):
            raise queue.Full
        self._items.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        item = self._items.get(block, timeout)
        self._room.release()
        return item

    def empty(self) -> bool:
        return self._items.empty()

    def qsize(self) -> int:
        return self._items.qsize()


@dataclass(frozen=True)
class Patch:
    """One speed-up: what it replaces (`read`), how (`install`, given what it replaces), and the
    signature the replaced function had when the speed-up was verified."""

    name: str
    read: Callable[[], Any]
    install: Callable[[Any], None]
    signature: str

    def applied(self) -> bool:
        return bool(getattr(self.read(), "_calltracking", False))

    def why_not(self, cdk_version: str) -> str | None:
        """Why this speed-up must stay off, or None."""
        if cdk_version not in VERIFIED_CDK_VERSIONS:
            return f"airbyte-cdk {cdk_version} is not a version it was verified on ({', '.join(VERIFIED_CDK_VERSIONS)})"
        found = _signature(self.read())
        if found != self.signature:
            return f"the CDK's function has another signature now ({found}, verified on {self.signature})"
        return None


def _signature(target: Any) -> str:
    """The parameters of a function as "(a, b=, *c)": names, order, and which have a default."""
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return repr(target)
    star = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return "(" + ", ".join(star.get(p.kind, "") + p.name + ("=" if p.default is not p.empty else "") for p in parameters) + ")"


def _set_classmethod(owner: Any, name: str, wrap: Callable) -> Callable[[Any], None]:
    def install(original: Any) -> None:
        fast = wrap(original)
        fast._calltracking = True
        setattr(owner, name, classmethod(fast))

    return install


def _set_staticmethod(owner: Any, name: str, wrap: Callable) -> Callable[[Any], None]:
    def install(original: Any) -> None:
        fast = wrap(original)
        fast._calltracking = True
        setattr(owner, name, staticmethod(fast))

    return install


def _set_function(owner: Any, name: str, wrap: Callable) -> Callable[[Any], None]:
    def install(original: Any) -> None:
        fast = wrap(original)
        fast._calltracking = True
        setattr(owner, name, fast)

    return install


def _install_record_queue(original: Any) -> None:
    concurrent_declarative_source.Queue = _RecordQueue  # type: ignore[attr-defined, misc]


_RecordQueue._calltracking = True  # type: ignore[attr-defined]

PATCHES: list[Patch] = [
    Patch(
        "fast cursor parsing (DatetimeParser.parse)",
        lambda: DatetimeParser.parse,
        _set_function(DatetimeParser, "parse", _fast_parse),
        "(self, date, format)",
    ),
    Patch(
        "orjson slice hashing (SliceHasher.hash)",
        lambda: SliceHasher.hash,
        _set_classmethod(SliceHasher, "hash", _fast_slice_hash),
        "(stream_name=, stream_slice=)",
    ),
    Patch(
        "record counting (AirbyteEntrypoint.handle_record_counts)",
        lambda: AirbyteEntrypoint.handle_record_counts,
        _set_staticmethod(AirbyteEntrypoint, "handle_record_counts", _counted_once_per_stream),
        "(message, stream_message_count)",
    ),
    Patch(
        "direct record messages (stream_data_to_airbyte_message)",
        lambda: concurrent_read_processor.stream_data_to_airbyte_message,
        _set_function(concurrent_read_processor, "stream_data_to_airbyte_message", _record_message_directly),
        "(stream_name, data_or_message, transformer=, schema=, file_reference=)",
    ),
    Patch(
        "a smaller, cheaper record queue (concurrent_declarative_source.Queue)",
        lambda: concurrent_declarative_source.Queue,
        _install_record_queue,
        "(maxsize=)",
    ),
]


def installed_cdk_version() -> str:
    try:
        return importlib.metadata.version("airbyte-cdk")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def apply(cdk_version: str | None = None) -> list[str]:
    """Installs every speed-up that is safe on this CDK (once); returns the names of those left off."""
    if os.environ.get(SWITCH, "").strip().lower() == "off":
        return [patch.name for patch in PATCHES]
    version = cdk_version or installed_cdk_version()
    off = []
    for patch in PATCHES:
        if patch.applied():
            continue
        reason = patch.why_not(version)
        if reason is not None:
            off.append(patch.name)
            logger.info(f"cdk_speedups: {patch.name} is off: {reason}; the CDK's own code runs instead.")
            continue
        patch.install(patch.read())
    return off

"""Every window checked against the count the API reports for it.

ckct.ru reports `totalLength` for the period asked ("the total number of calls in the period
given in the request", "Метод получения звонков пользователя"), and the UIS Data API
`metadata.total_items` with every page. A window that comes up short -- a page the server
shortened, records that moved between pages while they were read -- would otherwise pass for a
complete one. So when the records received differ from the count reported:

1. the window is read once more, from its first page; records already emitted in the first read
   are not emitted again;
2. if the second read differs from its count too, the stream ends with a system error that names
   the provider, the stream, the window and both counts. The window's partition never completes,
   so the state stays where it was before the window.

One log line per window says what was received and what the API reported. Nothing of this costs a
request on the normal path: the counts come with the pages.

How it is wired: the CDK shares one record filter and one paginator between every window read at
once, and hands both the same slice object for every page of one read. So a read's `WindowLedger`
is found by the identity of its slice (`ledger_for`); `WindowLedgerFilter` (the record filter)
counts every record into it and drops those a second read would repeat, and
`ReconciledPagination` decides, at the end of a window, whether to read it again.
"""

from __future__ import annotations

import logging
import threading
import weakref
from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import InitVar, dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking.components.accounts import partition_value
from source_calltracking.components.answers import json_body
from source_calltracking.components.windows import window_bounds

logger = logging.getLogger("airbyte")


class WindowLedger:
    """What one read of one window has received so far, and what the API said it holds.

    Records are told apart by key where rows that move while a window is read reappear: on the page
    after. A record that repeats one of its own page or of the page before is counted once and not
    emitted again, so that it cannot hide one that was never sent. Every key of the read is kept as
    an 8-byte hash, looked up only on a second read, which emits no record the first one emitted.
    """

    def __init__(self) -> None:
        self.attempt = 1
        self.on_page = 0  # records of the page being read
        self.reported: int | None = None  # the count the API reported, from its latest answer
        self.sent = 0  # records of this read, repeats included
        self.repeated = 0  # records of this read that repeated one of their page or of the page before
        self._keys = array("q")  # every key of this read, hashed
        self._this_page: set = set()
        self._page_before: set = set()
        self._emitted: set | None = None  # from the second read on: every key emitted before

    def admit(self, key: Hashable | None) -> bool:
        """Counts one record; False when it was emitted already. A record without a key (None) is
        counted and emitted: nothing tells it apart from another."""
        self.on_page += 1
        self.sent += 1
        if key is None:
            return True
        hashed = hash(key)
        if hashed in self._this_page or hashed in self._page_before:
            self.repeated += 1
            return False
        self._this_page.add(hashed)
        self._keys.append(hashed)
        if self._emitted is None:
            return True
        if hashed in self._emitted:
            return False
        self._emitted.add(hashed)
        return True

    def page_done(self) -> int:
        """The number of records on the page just read."""
        count, self.on_page = self.on_page, 0
        self._page_before, self._this_page = self._this_page, set()
        return count

    @property
    def received(self) -> int:
        """Different records received by this read."""
        return self.sent - self.repeated

    def read_again(self) -> None:
        self.attempt += 1
        self._emitted = (self._emitted or set()) | set(self._keys)
        self._keys = array("q")
        self.sent = self.repeated = 0
        self._this_page, self._page_before = set(), set()
        self.reported = None


class Position(int):
    """A page number or offset that is true even at 0: the CDK stops paginating on a falsy token,
    and the second read of a window starts again from its first page."""

    def __bool__(self) -> bool:
        return True


_LEDGERS: dict[int, tuple[weakref.ref[StreamSlice], WindowLedger]] = {}
_LEDGERS_LOCK = threading.Lock()


def ledger_for(stream_slice: StreamSlice) -> WindowLedger:
    """The ledger of the read of `stream_slice`: one per slice object, gone with it. (Keyed by
    identity: the windows of two streams are equal slices, read at the same time.)"""
    key = id(stream_slice)
    with _LEDGERS_LOCK:
        entry = _LEDGERS.get(key)
        if entry is not None and entry[0]() is stream_slice:
            return entry[1]
        ledger = WindowLedger()

        def forget(dead: weakref.ref[StreamSlice], key: int = key) -> None:
            with _LEDGERS_LOCK:
                if _LEDGERS.get(key, (None,))[0] is dead:
                    del _LEDGERS[key]

        _LEDGERS[key] = (weakref.ref(stream_slice, forget), ledger)
        return ledger


def describe_window(stream_slice: StreamSlice | None) -> str:
    """A window as a person reads it: "2024-01-01 00:00:00 to 2024-01-30 23:59:59" (UTC), with its
    partition (a chat, a visitor, a month) when it has one."""
    if stream_slice is None:
        return "the whole period"
    partition = {
        k: v
        for k, v in (getattr(stream_slice, "partition", None) or {}).items()
        if not str(k).startswith("_") and k != "parent_slice"
    }
    for key in ("account", "user_id"):  # the account of a substream's parent
        if key not in partition and partition_value(stream_slice, key) is not None:
            partition[key] = partition_value(stream_slice, key)
    parts = []
    window = window_bounds(stream_slice)
    if window is not None:
        parts.append(f"{window[0]:%Y-%m-%d %H:%M:%S} to {window[1]:%Y-%m-%d %H:%M:%S} UTC")
    parts.extend(f"{key} {value}" for key, value in partition.items())
    return ", ".join(parts) or "the whole period"


@dataclass
class ReconciledPagination(PaginationStrategy):
    """Base of the paginators that check each window against the API's own count.

    A subclass says where the first page is (`first_position`), what the API reported in one answer
    (`reported_count`) and where the next page is (`next_position`, None at the end of the window).
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    records_word = "records"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "")
        self._provider = parameters.get("provider_name", "The API")

    first_position = 0

    def reported_count(self, body: Any) -> int | None:
        raise NotImplementedError

    def next_position(self, body: Any, position: int, on_page: int) -> int | None:
        raise NotImplementedError

    @property
    def initial_token(self) -> Position:
        return Position(self.first_position)

    def get_page_size(self) -> int | None:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Record | None,
        last_page_token_value: Any | None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Position | None:
        position = int(last_page_token_value) if isinstance(last_page_token_value, int) else self.first_position
        ledger = ledger_for(stream_slice) if stream_slice is not None else WindowLedger()
        body = json_body(response)
        reported = self.reported_count(body)
        if reported is not None:
            ledger.reported = reported
        following = self.next_position(body, position, ledger.page_done())
        if following is not None:
            return Position(following)
        return self._end_of_window(ledger, stream_slice)

    def _end_of_window(self, ledger: WindowLedger, stream_slice: StreamSlice | None) -> Position | None:
        window = describe_window(stream_slice)
        received = ledger.received
        total = "not reported" if ledger.reported is None else ledger.reported
        repeated = f" ({ledger.repeated} of them sent twice)" if ledger.repeated else ""
        level = (
            logging.INFO if (stream_slice is not None and "start_time" in (stream_slice.cursor_slice or {})) else logging.DEBUG
        )
        logger.log(
            level,
            f"{self._provider}: stream {self._stream}, window {window}: "
            f"{received} {self.records_word}{repeated}, API total {total}.",
        )
        if ledger.reported is None or received == ledger.reported:
            return None
        if ledger.attempt == 1:
            logger.warning(
                f"{self._provider}: stream {self._stream}, window {window}: the API reported {ledger.reported} "
                f"{self.records_word} but sent {received}{repeated}; reading the window once more."
            )
            ledger.read_again()
            return Position(self.first_position)
        raise AirbyteTracedException(
            message=(
                f"{self._provider}: stream {self._stream}, window {window}: the API reported {ledger.reported} "
                f"{self.records_word} but sent {received}{repeated}, on two reads. The stream stopped so that no "
                f"{self.records_word} are lost without a word; the state is kept from before this window, and the "
                "next sync reads it again."
            ),
            internal_message=f"window count mismatch: reported {ledger.reported}, received {received} of {ledger.sent} sent",
            failure_type=FailureType.system_error,
        )


def key_of_fields(fields: Iterable[str]) -> Callable[[Mapping[str, Any]], Hashable | None]:
    """The record's key: the values of its key fields; None when one of them is missing."""
    names = tuple(fields)

    def key(record: Mapping[str, Any]) -> Hashable | None:
        values = tuple(record.get(name) for name in names)
        if not names or any(value is None for value in values):
            return None
        try:
            hash(values)
            return values
        except TypeError:  # a list or an object where an id was expected
            return orjson.dumps(values, default=str, option=orjson.OPT_SORT_KEYS)

    return key


@dataclass
class WindowLedgerFilter(RecordFilter):
    """Counts every record of a page into its window's ledger, and drops what a second read of the
    window would emit twice. `key_fields`: the fields that identify a record (its primary key as the
    API sends it)."""

    key_fields: list | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._key = self.record_key(parameters)

    def record_key(self, parameters: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Hashable]:
        return key_of_fields(self.key_fields or parameters.get("key_fields") or ())

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        ledger = ledger_for(stream_slice) if stream_slice is not None else None
        key = self._key
        for record in records:
            if ledger is None or ledger.admit(key(record)):
                yield record

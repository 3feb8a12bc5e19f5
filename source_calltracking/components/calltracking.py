"""CallKeeper call tracking API v3 (ckct.ru): "Метод получения звонков пользователя" (the envelope
`inbound`/`info`/`payload`, records with `callId`, `timeStart`, ...) and "API коллтрекинг (выгрузка
звонков)" (a bare array, records with `universalId`, `callTime`, ...) describe the same endpoint."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_calltracking.components.answers import Answer, ParsedResponse, json_body, released
from source_calltracking.components.reconciliation import ReconciledPagination, WindowLedgerFilter
from source_calltracking.components.shared import EventTimeUtc, ParsedOnceErrorHandler, RequesterWithOptions, is_object
from source_calltracking.components.windows import utc_moment, window_bounds
from source_calltracking.components.zones import EVENT_TIME_FIELD, clock, utc_text

DEFAULT_BASE_URL = "https://ckct.ru/api/"


@dataclass
class CalltrackingRequester(RequesterWithOptions):
    """The request is all in the URL: `{base}?json/v3/{key}/call/{method}/{page}/{from}/{to}`.

    Both documents put format, version, key, entity, method, page and the period in the query string,
    without names (`https://ckct.ru/api/?json/v3/x9xx99xx99xxxx99/call/get/0/2020-05-01/2020-05-02`;
    `index.php?` works as well). The period goes as unix timestamps, which both documents allow, so
    that windows meet to the second. `$parameters.method` names the method, `$parameters.key_field`
    the config key whose key it takes (`api_key`, or `role_api_key` for `getByRole`).
    """

    def get_url(
        self,
        *,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> str:
        block = self.config_for(stream_slice)["callkeeper_calltracking"]
        page = (next_page_token or {}).get("next_page_token") or 0
        window = window_bounds(stream_slice)
        period = f"/{int(window[0].timestamp())}/{int(window[1].timestamp())}" if window else ""
        return (
            f"{endpoint(block.get('base_url'))}?json/v3/{block.get(self._key_field, '')}/call/{self._method}/{int(page)}{period}"
        )

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._method = parameters["method"]
        self._key_field = parameters.get("key_field", "api_key")


def endpoint(base_url: str | None) -> str:
    """`https://ckct.ru/api/` or `…/api/index.php`, with or without the trailing `/`: where `?` goes."""
    base = base_url or DEFAULT_BASE_URL
    return base if base.endswith(("/", ".php")) else base + "/"


@dataclass
class CalltrackingErrorHandler(ParsedOnceErrorHandler):
    """The filters see `{"error": <the answer's inbound.error>}`.

    The API answers errors with HTTP 200 in `inbound.error` of its envelope ("API коллтрекинг",
    "Форматы ответов при неправильном или неуспешном запросе"): `{"inbound": {"error": "No rows
    found"}, "info": {...}, "payload": []}`. A bare array of calls has no `inbound`: no error.
    """

    def resolve(self, response: ParsedResponse, answer: Answer):
        body = answer.body
        if body is None:
            return super().resolve(response, answer)  # not JSON: the shared filter retries it
        inbound = body.get("inbound") if isinstance(body, dict) else None
        error = inbound.get("error") if isinstance(inbound, dict) else None
        return super().resolve(response.seen_as({"error": error}), answer)


@dataclass
class CalltrackingRecordExtractor(RecordExtractor):
    """The calls of both answer shapes: the envelope's `payload`, or the bare array."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = json_body(response)
        if isinstance(body, list):
            calls = body
        elif isinstance(body, dict) and isinstance(body.get("payload"), list):
            calls = body["payload"]
        else:
            calls = []
        return released(calls, is_object)


@dataclass
class CalltrackingPages(ReconciledPagination):
    """Pages from 0 until the server says the window is done; the page length is the server's.

    "Метод получения звонков пользователя" describes `pageLength` as "the maximum number of calls on
    one page" -- 1000 is only its sample's value -- beside `totalLength` and `ofPages`, and shows them
    under `info` while describing them under `inbound`; "API коллтрекинг" shows a bare array with no
    counters at all. So: with counters (in `inbound`, in `info`, or both; `inbound` first), read until
    `ofPages` and check the calls received against `totalLength`; without them, until an empty page or
    "Incorrect page is set". A short page is never taken for the last one.
    """

    records_word = "calls"

    def reported_count(self, body: Any) -> int | None:
        if _inbound_error(body) == "No rows found":
            return 0
        return _counter(body, "totalLength")

    def next_position(self, body: Any, position: int, on_page: int) -> int | None:
        if _inbound_error(body):
            return None  # "No rows found", "Incorrect page is set": the window has no more pages
        of_pages = _counter(body, "ofPages")
        if of_pages is not None:
            return position + 1 if position + 1 < of_pages else None
        return position + 1 if on_page else None


def _inbound_error(body: Any) -> str | None:
    inbound = body.get("inbound") if isinstance(body, dict) else None
    return inbound.get("error") if isinstance(inbound, dict) else None


def _counter(body: Any, name: str) -> int | None:
    """A page counter from `inbound`, else `info` (a number, or a number as text)."""
    if not isinstance(body, dict):
        return None
    for section in ("inbound", "info"):
        part = body.get(section)
        value = part.get(name) if isinstance(part, dict) else None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def call_key(record: Mapping[str, Any]) -> str | None:
    """The API's own id of a call: `universalId` (the newer shape) or `callId` (the older one)."""
    key = record.get("universalId") or record.get("callId")
    return None if key in (None, "") else str(key)


def record_id(record: Mapping[str, Any]) -> str:
    """The call's id; without one from the API, a hash of the call's content, stable and unique."""
    key = call_key(record)
    if key is not None:
        return key
    return "sha1:" + hashlib.sha1(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class CalltrackingLedgerFilter(WindowLedgerFilter):
    """The window ledger of ckct.ru, keyed by the call's id (the record is read before `record_id` is added)."""

    def record_key(self, parameters: Mapping[str, Any]):
        return call_key


@dataclass
class CalltrackingRecordKeys(EventTimeUtc):
    """Adds `record_id` (primary key), `call_datetime` (cursor) and `event_time_utc` to a call of either shape.

    `record_id`: `universalId` or `callId`. The call's moment: `callTime`, else `timeStart` (a
    date-time, or a unix timestamp). "API коллтрекинг" gives `callTime` beside `localDate`, "date and
    time in the client's time zone", with `timezoneOffset` -- and its sample contradicts itself
    (`callTime` 13:23:32, `localDate` 15:23:32, `timezoneOffset` "+0020") -- so the zone of `callTime`
    is not the API's to tell: it is `callkeeper_calltracking.time_zone`, UTC unless set.
    `call_datetime` is that moment in UTC as "YYYY-MM-DD hh:mm:ss", `event_time_utc` the same with
    `T` and `Z`. When the API sends neither field, the start of the window the call was read in, so
    that the call is still synced and checkpointed. Plain Python rather than AddFields: two Jinja
    renders per record were a quarter of the CPU.
    """

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        record["record_id"] = record_id(record)
        local = clock(self.zone(config or {}, stream_slice))
        moment = _plausible(local.utc(record.get("callTime"))) or _plausible(local.utc(record.get("timeStart")))
        if moment is None and stream_slice and stream_slice.get("start_time"):
            moment = utc_moment(stream_slice["start_time"])
        record["call_datetime"] = moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None
        record[EVENT_TIME_FIELD] = utc_text(moment) if moment else None


def _plausible(moment: dt.datetime | None) -> dt.datetime | None:
    return moment if moment is not None and 1970 <= moment.year <= 2100 else None

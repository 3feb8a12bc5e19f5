"""Custom components for what the manifest language cannot say. Each is small and single-purpose."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import pkgutil
import re
import time
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, Iterator, Mapping, MutableMapping, Optional, Tuple, Union
from zoneinfo import ZoneInfo

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking import callkeeper_statuses
from source_calltracking.reconciliation import ReconciledPagination, WindowLedgerFilter
from source_calltracking.response_body import cached_json, json_body, read_streamed_body, released, spooled_records
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.request_options.interpolated_request_options_provider import (
    InterpolatedRequestOptionsProvider,
)
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.offset_increment import OffsetIncrement
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.page_increment import PageIncrement
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState

logger = logging.getLogger("airbyte")


def _is_object(item: Any) -> bool:
    return isinstance(item, dict)


@dataclass
class ParseOnceErrorHandler(DefaultErrorHandler):
    """The DefaultErrorHandler, with the response body parsed once (by orjson) for all its filters.

    Every HttpResponseFilter with a `predicate` calls `response.json()`, which re-parses the whole
    page with the standard library; with the several predicates a vendor's HTTP-200 errors need,
    that cost more than the records themselves. Filters, backoff and retries are unchanged.
    """

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        if type(response_or_exception) is requests.Response:
            # A streamed answer (RIA.com, CallKeeper REST) is read here, a large array into a file.
            interrupted = read_streamed_body(response_or_exception, self._provider)
            if interrupted is not None:
                return super().interpret_response(interrupted)
            # A class, not a closure assigned to `response.json`: the closure made a reference
            # cycle, so every page (its bytes and parsed body) lived until the cyclic garbage
            # collector ran, and memory grew with the volume synced.
            response_or_exception.__class__ = _ParsedOnceResponse
        return super().interpret_response(response_or_exception)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._provider = str((parameters or {}).get("provider_name") or "The API")


class _ParsedOnceResponse(requests.Response):
    """A response whose `json()` is the body parsed once by orjson (see `json_body`)."""

    def json(self, **kwargs: Any) -> Any:
        return cached_json(self, **kwargs)


@dataclass
class CalltrackingRecordExtractor(RecordExtractor):
    """ckct.ru answers with either the `inbound`/`info`/`payload` envelope (seed 000) or a bare
    array of calls (seed 001): yield the calls of both."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = json_body(response)
        if isinstance(body, list):
            calls = body
        elif isinstance(body, dict) and isinstance(body.get("payload"), list):
            calls = body["payload"]
        else:
            calls = []
        return released(calls, _is_object)


@dataclass
class ArrayRecordExtractor(RecordExtractor):
    """The objects of a bare JSON array (RIA.com), read from the body the error handler parsed.
    Anything else holds no records: error objects are the error handler's, and an item that is not
    an object is not a record (the CDK's DpathExtractor would turn a lone object into a record and
    crash on a string item)."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        spooled = spooled_records(response)
        if spooled is not None:
            return filter(_is_object, spooled.items())
        body = json_body(response)
        return released(body, _is_object) if isinstance(body, list) else []


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

    def reported_count(self, body: Any) -> Optional[int]:
        if _ckct_error(body) == "No rows found":
            return 0
        return _ckct_counter(body, "totalLength")

    def next_position(self, body: Any, position: int, on_page: int) -> Optional[int]:
        if _ckct_error(body):
            return None  # "No rows found", "Incorrect page is set": the window has no more pages
        of_pages = _ckct_counter(body, "ofPages")
        if of_pages is not None:
            return position + 1 if position + 1 < of_pages else None
        return position + 1 if on_page else None


def _ckct_error(body: Any) -> Optional[str]:
    inbound = body.get("inbound") if isinstance(body, dict) else None
    return inbound.get("error") if isinstance(inbound, dict) else None


def _ckct_counter(body: Any, name: str) -> Optional[int]:
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


def calltracking_record_id(record: Mapping[str, Any]) -> str:
    """The call's id: `universalId` (the newer record shape) or `callId` (the older one); without
    either, a hash of the call's content, stable and unique."""
    key = _calltracking_call_key(record)
    if key is not None:
        return key
    return "sha1:" + hashlib.sha1(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _calltracking_call_key(record: Mapping[str, Any]) -> Optional[str]:
    key = record.get("universalId") or record.get("callId")
    return None if key in (None, "") else str(key)


@dataclass
class CalltrackingLedgerFilter(WindowLedgerFilter):
    """The window ledger of ckct.ru, keyed by the call's id (the record is read before `record_id` is added)."""

    def record_key(self, parameters: Mapping[str, Any]):
        return _calltracking_call_key


@dataclass
class CalltrackingRecordKeys(RecordTransformation):
    """Adds `record_id` (primary key) and `call_datetime` (cursor) to a ckct.ru call of either shape.

    `record_id`: `universalId` (seed 001) or `callId` (seed 000). `call_datetime`: `callTime`, or
    `timeStart` (a date-time string or a unix timestamp); when the API sends neither, the start of
    the window the call was read in, so that the call is still synced and checkpointed.
    Plain Python rather than AddFields: two Jinja renders per record were a quarter of the CPU.
    """

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        record["record_id"] = calltracking_record_id(record)
        record["call_datetime"] = _as_cursor(record.get("callTime")) or _as_cursor(record.get("timeStart")) or _window_start(stream_slice)


def _as_cursor(value: Any) -> Optional[str]:
    """A date-time (text or unix timestamp) as "YYYY-MM-DD hh:mm:ss" in UTC, or None if it is not one."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = dt.datetime.fromtimestamp(value, dt.timezone.utc)
        elif isinstance(value, str) and value:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.timezone.utc)
        else:
            return None
        return moment.strftime("%Y-%m-%d %H:%M:%S") if 1970 <= moment.year <= 2100 else None
    except (ValueError, OverflowError, OSError):
        return None


def _window_start(stream_slice: Optional[StreamSlice]) -> Optional[str]:
    start = (stream_slice or {}).get("start_time") if stream_slice is not None else None
    return str(start) if start else None


_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


@dataclass
class SchemaTypeGuard(RecordTransformation):
    """Keeps records true to their stream's schema at the top level, cheaply.

    A value of the wrong type is converted when that loses nothing ("42" -> 42 for an integer,
    7 -> "7" for a string); otherwise it is set to null and moved, as text, into
    `_invalid_fields` so nothing is lost and nothing breaks the destination's typed columns.
    `_invalid_fields` is in every record, null when every value was right. Each
    (stream, field) is reported once in the log, so a vendor change is never silent. A plain
    type check per field, not a JSON-schema validation per record: that would cost more than the
    rest of the sync.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "")
        self._provider = parameters.get("provider_name", "")
        self._types = _top_level_types(self._stream)
        self._reported: set = set()

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        fields = self._types
        invalid = record.get("_invalid_fields")
        if invalid is None:
            record["_invalid_fields"] = None  # in every record, so that every record has the same keys
        elif not isinstance(invalid, dict):  # the API's own field of that name
            record["_invalid_fields"] = {"_invalid_fields": orjson.dumps(invalid).decode()}
        wrong = [
            (key, value, field)
            for key, value in record.items()
            # The exact-type test answers for almost every value; _conforms handles the rest.
            if (field := fields.get(key)) is not None and type(value) not in field.exact and not _conforms(value, field)
        ]
        for key, value, field in wrong:
            record[key] = self._repair(record, key, value, field)

    def _repair(self, record: Dict[str, Any], key: str, value: Any, field: "_FieldType") -> Any:
        kinds = field.kinds
        if isinstance(value, str) and "integer" in kinds and re.fullmatch(r"-?\d{1,18}", value.strip()):
            return int(value)
        if isinstance(value, str) and "number" in kinds:
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, (int, float)) and not isinstance(value, bool) and "string" in kinds:
            return str(value)
        if not isinstance(record.get("_invalid_fields"), dict):
            record["_invalid_fields"] = {}
        record["_invalid_fields"][key] = value if isinstance(value, str) else orjson.dumps(value).decode()
        if key not in self._reported:
            self._reported.add(key)
            logger.warning(
                "%s: stream %s: the API sent a %s for `%s`, which the schema declares as %s; "
                "the value is kept as text in `_invalid_fields` and the field set to null (reported once per field).",
                self._provider or "API", self._stream, type(value).__name__, key, " or ".join(kinds),
            )
        return None


@dataclass
class _FieldType:
    """What the schema allows for one value: python types, JSON type names, and what is inside."""

    pytypes: tuple
    kinds: list
    items: Optional["_FieldType"] = None
    properties: Optional[Dict[str, "_FieldType"]] = None
    exact: frozenset = frozenset()  # types whose values conform without looking inside (set by _field_type)


def _field_type(spec: Mapping[str, Any]) -> Optional[_FieldType]:
    kinds = spec.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if not kinds:
        return None
    field = _FieldType(tuple(t for kind in kinds for t in _JSON_TYPES.get(kind, (object,))), [k for k in kinds if k != "null"])
    if isinstance(spec.get("items"), Mapping):
        field.items = _field_type(spec["items"])
    if isinstance(spec.get("properties"), Mapping):
        field.properties = {k: f for k, v in spec["properties"].items() if (f := _field_type(v)) is not None}
    exact = {t for t in field.pytypes if t is not object and not (t is list and field.items) and not (t is dict and field.properties)}
    field.exact = frozenset(exact - ({bool} if "boolean" not in kinds else set()))
    return field


def _conforms(value: Any, field: _FieldType) -> bool:
    if not isinstance(value, field.pytypes) or (isinstance(value, bool) and bool not in field.pytypes):
        return False
    if field.items is not None and isinstance(value, list):
        return all(_conforms(item, field.items) for item in value)
    if field.properties and isinstance(value, dict):
        return all(_conforms(v, field.properties[k]) for k, v in value.items() if k in field.properties)
    return True


def _top_level_types(stream: str) -> Dict[str, _FieldType]:
    """{field: its _FieldType} from the stream's schema file."""
    raw = pkgutil.get_data("source_calltracking", f"schemas/{stream}.json") if stream else None
    if not raw:
        return {}
    fields = {}
    for key, spec in orjson.loads(raw).get("properties", {}).items():
        field = _field_type(spec)
        if field is not None:
            fields[key] = field
    return fields


# ---------------------------------------------------------------------------------------------
# CallKeeper REST API (api.callkeeper.ru)
# ---------------------------------------------------------------------------------------------

_ENVELOPE_KEYS = ("result", "data")


def callkeeper_records(body: Any) -> Iterable[Dict[str, Any]]:
    """The records of a CallKeeper REST answer, whatever its shape.

    Seed 003 does not show the answer of the read methods. Published clients read
    `response["result"]` (getCallsCompleted, getCallInfo) and `response[0]` (getUserInfo), and a PHP
    API keyed by call id would send an object of objects. Accepted: `{"result": ...}` / `{"data": ...}`
    around any of the following, a bare array of records, an object keyed by id (the key becomes `id`
    when the record lacks one), and a single record object. An error body (`"status": "fail"`) holds no
    records; the error handler reports it.
    """
    if isinstance(body, dict):
        for key in _ENVELOPE_KEYS:
            if isinstance(body.get(key), (list, dict)):
                return callkeeper_records(body[key])
        if body.get("status") == "fail":
            return []
        if body and all(isinstance(value, dict) for value in body.values()):
            return [{"id": key, **value} if "id" not in value else value for key, value in body.items()]
        return [body] if body else []
    if isinstance(body, list):
        return released(body, _is_callkeeper_record)
    return []


def _is_callkeeper_record(item: Any) -> bool:
    return isinstance(item, dict) and item.get("status") != "fail"


@dataclass
class CallkeeperRecordExtractor(RecordExtractor):
    """Records of every answer shape `callkeeper_records` accepts."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        spooled = spooled_records(response)
        if spooled is not None:
            return filter(_is_callkeeper_record, spooled.items())
        return callkeeper_records(json_body(response))


@dataclass
class CallkeeperWindowRequester(HttpRequester):
    """The CallKeeper REST requester, sending each date window in a form the document shows.

    "Использование HTTPS REST API CallKeeper" gives `date[from]`/`date[to]` only as `2017-05-01`,
    `2005-08-15T23:59:59` and `2005-08-16T24:00:00` -- no offset -- beside `time_zone`, "the time zone
    in the IANA format", which says how they are read. A server that parses only those forms answers
    `2024-01-01T00:00:00+00:00` with 406 "Wrong data type!". So the window's bounds go out as
    wall-clock times in the request's `time_zone` (`callkeeper.time_zone`, else UTC), always sent.

    The document does not say whether `date[to]` includes its own second, nor which moment a
    wall-clock time means when a daylight-saving change repeats it. The bounds asked for are
    therefore one second wider than the window, and moved out of a repeated hour; `CallkeeperWindowFilter`
    keeps the calls of the window itself, by their `date` (UTC, says the document). Windows so meet
    without a gap or an overlap, whatever the server's reading.
    """

    request_parameters: Optional[Mapping[str, Any]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.request_options_provider = InterpolatedRequestOptionsProvider(
            request_parameters=self.request_parameters, config=self.config, parameters=parameters)
        self.stream_response = self.decoder.is_stream_response()
        super().__post_init__(parameters)

    def get_request_params(self, *, stream_state: Optional[StreamState] = None, stream_slice: Optional[StreamSlice] = None,
                           next_page_token: Optional[Mapping[str, Any]] = None) -> MutableMapping[str, Any]:
        params = dict(super().get_request_params(stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token))
        window = window_bounds(stream_slice)
        if window is not None:
            zone = callkeeper_time_zone(self.config)
            params["date[from]"] = wall_clock(window[0] - dt.timedelta(seconds=1), zone, earlier=True)
            params["date[to]"] = wall_clock(window[1] + dt.timedelta(seconds=1), zone, earlier=False)
            params["time_zone"] = zone.key
        return params


def callkeeper_time_zone(config: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo((config.get("callkeeper") or {}).get("time_zone") or "UTC")


def window_bounds(stream_slice: Optional[Mapping[str, Any]]) -> Optional[Tuple[dt.datetime, dt.datetime]]:
    """The first and the last second of a window slice, as UTC datetimes."""
    if not stream_slice or stream_slice.get("start_time") is None or stream_slice.get("end_time") is None:
        return None
    return _utc(stream_slice["start_time"]), _utc(stream_slice["end_time"])


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def wall_clock(moment: dt.datetime, zone: ZoneInfo, earlier: bool) -> str:
    """`moment` as the wall-clock time of `zone` ("2024-10-27T02:59:59"); a time that a daylight-saving
    change shows twice is moved out of the repeated hour, earlier or later, so that it can mean only
    one moment."""
    step = dt.timedelta(minutes=-30 if earlier else 30)
    for _ in range(8):  # no change repeats more than a few hours
        local = moment.astimezone(zone)
        if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
            return local.strftime("%Y-%m-%dT%H:%M:%S")
        moment += step
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class CallkeeperWindowFilter(RecordFilter):
    """Keeps the calls of the window itself (see `CallkeeperWindowRequester`: the window asked for is
    a little wider). A call whose `date` cannot be read is kept: better twice than never."""

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        window = window_bounds(stream_slice)
        if window is None:
            yield from records
            return
        first, last = window
        for record in records:
            moment = callkeeper_date(record.get("date"))
            if moment is None or first <= moment <= last:
                yield record


def callkeeper_date(value: Any) -> Optional[dt.datetime]:
    """A call's `date` (UTC): "Y-m-d H:i:s", the same with a T, with an offset or Z, or a unix timestamp."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            return dt.datetime.fromtimestamp(int(text), dt.timezone.utc) if text.isdigit() else _utc(text)
    except (ValueError, OverflowError, OSError):
        return None
    return None


@dataclass
class CallkeeperStatusDecoder(RecordTransformation):
    """Adds `status_title` and `status_description`: the status pair decoded with the document's
    table (callkeeper_statuses.py); null for a pair the table does not list."""

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        record["status_title"], record["status_description"] = callkeeper_statuses.decode(
            record.get("status_code"), record.get("status2_code")
        )


# ---------------------------------------------------------------------------------------------
# Quotas that answer 429 without Retry-After (RIA.com)
# ---------------------------------------------------------------------------------------------


@dataclass
class QuotaBackoffStrategy(BackoffStrategy):
    """Waits that grow for a quota answer (HTTP 429): `first_wait_seconds`, then twice as long each
    time. When `retries` waits did not help, ends the stream with `exhausted_message` -- a sentence
    that names the provider and what to do -- instead of the CDK's generic "API rate limit exceeded.".
    The state of the windows read so far has already been emitted, so the next sync resumes there.

    A body whose `error.code` is one of `quota_error_codes` is a quota answer whatever its HTTP
    code. Once the quota did not recover for one request, later quota answers of the stream (the
    other date windows) end at once instead of waiting all over again.

    Other responses get no opinion (None), so the next strategy of the error handler decides.
    The error handler's `max_retries` must be at least `retries`. All fields may interpolate `config`.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    retries: Union[int, str] = 5
    first_wait_seconds: Union[float, str] = 60
    exhausted_message: str = "The API quota is used up."
    quota_error_codes: Optional[list] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._exhausted = False
        self._retries = InterpolatedString.create(str(self.retries), parameters=parameters)
        self._first_wait = InterpolatedString.create(str(self.first_wait_seconds), parameters=parameters)
        self._message = InterpolatedString.create(self.exhausted_message, parameters=parameters)

    def backoff_time(
        self,
        response_or_exception: Optional[Union[requests.Response, requests.RequestException]],
        attempt_count: int,
    ) -> Optional[float]:
        if not isinstance(response_or_exception, requests.Response) or not self._is_quota_answer(response_or_exception):
            return None
        retries = int(float(self._retries.eval(self.config)))
        if attempt_count > retries or self._exhausted:
            self._exhausted = True
            raise AirbyteTracedException(
                message=self._message.eval(self.config, response=json_body(response_or_exception) or {}),
                internal_message=f"HTTP {response_or_exception.status_code} after {retries} retries: {response_or_exception.text[:500]}",
                failure_type=FailureType.transient_error,
            )
        # Never 0: a falsy wait would hand the response to the CDK's endless rate-limit loop.
        return max(float(self._first_wait.eval(self.config)), 0.001) * 2 ** (attempt_count - 1)

    def _is_quota_answer(self, response: requests.Response) -> bool:
        if response.status_code == 429:
            return True
        if not self.quota_error_codes:
            return False
        body = json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        return isinstance(error, dict) and error.get("code") in self.quota_error_codes


# ---------------------------------------------------------------------------------------
# UIS / CoMagic Data API
# ---------------------------------------------------------------------------------------

UIS_PAGE_SIZE = 10_000  # the API's maximum `limit`
UIS_MAX_OFFSET = 100_000  # the API's maximum `offset`: one request reads at most 110000 rows
_LOGGER = logging.getLogger("airbyte")


@dataclass
class UisErrorHandler(ParseOnceErrorHandler):
    """The UIS error handler, pacing requests by the budget every answer reports.

    Each result carries `metadata.limits` (`minute_remaining`, `minute_reset`; the limits differ
    per account). When fewer requests are left in the minute than can be in flight at once
    (`concurrency_level`), the thread waits for the minute to reset before it sends its next
    request, so the API is not asked for more than it grants. A `limit_exceeded` that still comes
    (another client spending the same budget) is waited out and retried by the filters as before.
    """

    MAX_WAIT_SECONDS = 120

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.SUCCESS and isinstance(response_or_exception, requests.Response):
            self._wait_when_the_minute_is_spent(json_body(response_or_exception))
        return resolution

    def _wait_when_the_minute_is_spent(self, body: Any) -> None:
        result = body.get("result") if isinstance(body, dict) else None
        metadata = result.get("metadata") if isinstance(result, dict) else None
        limits = metadata.get("limits") if isinstance(metadata, dict) else None
        if not isinstance(limits, dict):
            return
        remaining, reset = limits.get("minute_remaining"), limits.get("minute_reset")
        in_flight = int((self.config or {}).get("concurrency_level") or 4)
        if isinstance(remaining, int) and isinstance(reset, (int, float)) and remaining < in_flight and 0 < reset <= self.MAX_WAIT_SECONDS:
            _LOGGER.info(
                f"UIS: {remaining} request(s) left in this minute's Data API budget (minute_limit "
                f"{limits.get('minute_limit')}); waiting {reset} s for it to reset before the next request."
            )
            time.sleep(reset)


@dataclass
class UisLedgerFilter(WindowLedgerFilter):
    """The window ledger of the UIS reports. A row that is an empty object is counted (the API counts
    it in `total_items`), then dropped: it carries nothing."""

    def filter_records(self, records, stream_state, stream_slice=None, next_page_token=None):
        return filter(None, super().filter_records(records, stream_state, stream_slice, next_page_token))


def uis_total_items(body: Any) -> Optional[int]:
    """`result.metadata.total_items` (`meta_data` in the document's example of get.sales_report)."""
    result = body.get("result") if isinstance(body, dict) else None
    metadata = (result.get("metadata") or result.get("meta_data")) if isinstance(result, dict) else None
    total = metadata.get("total_items") if isinstance(metadata, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


@dataclass
class UisRecordExtractor(RecordExtractor):
    """The rows of `result.data`, checked to be a list of objects; and the `method_not_found` the
    error handler lets through for the API v3.0 methods turned into a warning and no rows."""

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._method = parameters.get("method", "")
        self._stream = parameters.get("name", "")

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = json_body(response)
        if not isinstance(body, dict):
            return []
        result = body.get("result")
        if isinstance(result, dict):
            rows = result.get("data")
            if rows is None and not uis_total_items(body):
                return []
            spooled = spooled_records(response)
            if spooled is not None and spooled.path == ("result", "data"):
                return self._rows_of_large_page(spooled.items())
            if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
                raise self._not_rows(rows)
            return released(rows)
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        data = error.get("data") if isinstance(error.get("data"), dict) else {}
        if data.get("mnemonic") == "method_not_found":
            _LOGGER.warning(
                f"UIS: the API does not offer {self._method} (method_not_found: {error.get('message') or 'no message'}); "
                f"the documentation lists this API v3.0 method as not implemented yet. Stream {self._stream} "
                "is skipped with no records; the other streams go on."
            )
        return []

    def _rows_of_large_page(self, rows: Iterable[Any]) -> Iterator[Dict[str, Any]]:
        """The rows of a page read from its file (see response_body.py), checked one by one."""
        for row in rows:
            if not isinstance(row, dict):
                raise self._not_rows([row])
            yield row

    def _not_rows(self, rows: Any) -> AirbyteTracedException:
        # Read as "no rows", the rest of the window would be lost without a word.
        return AirbyteTracedException(
            message=(
                f"UIS: the API answered {self._method} with a result whose `data` is not a list of rows "
                f"(got {_shape(rows)}); the stream stopped so that no rows are lost. Sync again later."
            ),
            internal_message=f"UIS result.data: {orjson.dumps(rows, default=str)[:300].decode(errors='replace')}",
            failure_type=FailureType.system_error,
        )


def _shape(value: Any) -> str:
    if isinstance(value, list):
        odd = next((row for row in value if not isinstance(row, dict)), None)
        return f"a list with a {type(odd).__name__} among its rows"
    return "null" if value is None else f"a {type(value).__name__}"


@dataclass
class UisOffsetPages(ReconciledPagination):
    """`offset` 0, then past every row received, until `metadata.total_items` is reached; each window
    is checked against that total. The page length is the server's: the request asks for `limit`
    10000, a server that sends fewer rows per page is paged on, not taken as done.

    The API refuses an `offset` above 100000. Windowed streams never get there (a window of more
    than 110000 rows is split first); for a request that cannot be split the sync stops with a
    message instead of losing the rows past 110000 silently."""

    page_size: Optional[int] = UIS_PAGE_SIZE
    records_word = "rows"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._method = parameters.get("method", "the report")

    def get_page_size(self) -> Optional[int]:
        return self.page_size

    def reported_count(self, body: Any) -> Optional[int]:
        return uis_total_items(body)

    def next_position(self, body: Any, position: int, on_page: int) -> Optional[int]:
        total = uis_total_items(body)
        following = position + on_page
        if on_page == 0 or (total is not None and following >= total):
            return None
        if following > UIS_MAX_OFFSET:
            raise AirbyteTracedException(
                message=(
                    f"UIS: {self._method} answered with {total if total is not None else 'more than 110000'} rows "
                    "for one request, more than the 110000 the API pages through (offset at most 100000); the "
                    "rest cannot be read."
                ),
                failure_type=FailureType.system_error,
            )
        return following

"""Custom components for what the manifest language cannot say. Each is small and single-purpose."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import pkgutil
import re
import time
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, Iterator, Mapping, MutableMapping, Optional, Union

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking import callkeeper_statuses
from source_calltracking.response_body import cached_json, json_body, read_streamed_body, released, spooled_records
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
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
class CalltrackingPageIncrement(PageIncrement):
    """Pages from 0; besides a short or empty page, the envelope's `ofPages` says when to stop,
    which saves the request that would only answer "Incorrect page is set"."""

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        next_page = super().next_page_token(response, last_page_size, last_record, last_page_token_value)
        if next_page is None:
            return None
        body = json_body(response)
        if isinstance(body, dict):
            of_pages = _of_pages(body)
            if of_pages is not None and next_page >= of_pages:
                return None
        return next_page


def _of_pages(body: Mapping[str, Any]) -> Optional[int]:
    # Seed 000 shows the page counters under `info` but describes them under `inbound`.
    for section in ("info", "inbound"):
        value = body.get(section, {}).get("ofPages") if isinstance(body.get(section), dict) else None
        if isinstance(value, int):
            return value
    return None


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
        key = record.get("universalId") or record.get("callId")
        # Without an id from the API, a hash of the call's content keeps the key stable and unique.
        record["record_id"] = str(key) if key not in (None, "") else "sha1:" + hashlib.sha1(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()
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
    `_invalid_fields` so nothing is lost and nothing breaks the destination's typed columns. Each
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
        if invalid is not None and not isinstance(invalid, dict):  # the API's own field of that name
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
_TOTAL_ITEMS = "_uis_total_items"
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
class UisRecordExtractor(RecordExtractor):
    """The rows of `result.data`. Also keeps `result.metadata.total_items` on the response for
    `UisOffsetPagination` (so the body is parsed once), and turns the `method_not_found` the
    error handler lets through for the API v3.0 methods into a warning and no rows."""

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
            metadata = result.get("metadata") or result.get("meta_data") or {}
            total = metadata.get("total_items") if isinstance(metadata, dict) else None
            setattr(response, _TOTAL_ITEMS, total if isinstance(total, int) else None)
            rows = result.get("data")
            if rows is None and not total:
                return []
            spooled = spooled_records(response)
            if spooled is not None and spooled.path == ("result", "data"):
                return self._rows_of_large_page(spooled.items())
            if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
                raise self._not_rows(rows)
            # An empty object carries nothing, and the CDK's read loop stops silently on a record
            # that is empty (Record is a Mapping: falsy), losing the rest of the sync.
            return released(rows, bool)
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
            if row:
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
class UisOffsetPagination(OffsetIncrement):
    """`offset` 0, 10000, 20000, ... until `metadata.total_items` is reached or a page is short.

    The API refuses an `offset` above 100000. Windowed streams never get there (a window of more
    than 110000 rows is split first); for a request that cannot be split the sync stops with a
    message instead of losing the rows past 110000 silently."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._method = parameters.get("method", "the report")

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        page_size = self.get_page_size() or UIS_PAGE_SIZE
        offset = last_page_token_value if isinstance(last_page_token_value, int) else 0
        next_offset = offset + last_page_size
        total = getattr(response, _TOTAL_ITEMS, None)
        if last_page_size < page_size or (total is not None and next_offset >= total):
            return None
        if next_offset > UIS_MAX_OFFSET:
            raise AirbyteTracedException(
                message=(
                    f"UIS: {self._method} answered with {total if total is not None else 'more than 110000'} rows "
                    "for one request, more than the 110000 the API pages through (offset at most 100000); the "
                    "rest cannot be read."
                ),
                failure_type=FailureType.system_error,
            )
        return next_offset

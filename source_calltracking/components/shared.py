"""Components every provider uses: an error handler whose filters parse the body once, a requester
base for requests the manifest language cannot build, and the schema type guard."""

from __future__ import annotations

import datetime as dt
import logging
import pkgutil
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.request_options.interpolated_request_options_provider import (
    InterpolatedRequestOptionsProvider,
)
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.mapping_helpers import get_interpolation_context
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking.components.accounts import account_block, account_config, account_of, for_account
from source_calltracking.components.answers import Answer, ParsedResponse, answer_of
from source_calltracking.components.windows import window_bounds
from source_calltracking.components.zones import EVENT_TIME_FIELD, clock, utc_text

logger = logging.getLogger("airbyte")


def is_object(item: Any) -> bool:
    return isinstance(item, dict)


@dataclass
class ParsedOnceErrorHandler(DefaultErrorHandler):
    """The DefaultErrorHandler, whose filters see the body parsed once.

    Every HttpResponseFilter with a `predicate` calls `response.json()`, which parses the whole page
    again with the standard library; with the several predicates a vendor's HTTP-200 errors need,
    that cost more than the records. The filters get a `ParsedResponse` instead, whose `json()` is
    the body `answer_of` read (the answer is read here, first of all, a large one into a file). A
    network error that cut the reading short is handled as one raised while sending: retried.
    Filters, backoff and retries are the DefaultErrorHandler's.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._provider = str((parameters or {}).get("provider_name") or "The API")

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if not isinstance(response_or_exception, requests.Response):
            return super().interpret_response(response_or_exception)
        answer = answer_of(response_or_exception, self._provider)
        if answer.interruption is not None:
            return super().interpret_response(answer.interruption)
        return self.resolve(ParsedResponse(response_or_exception, answer), answer)

    def resolve(self, response: ParsedResponse, answer: Answer) -> ErrorResolution:
        """What the filters make of the answer (a provider's handler may add to it)."""
        return super().interpret_response(response)


@dataclass
class RequesterWithOptions(HttpRequester):
    """An HttpRequester declared as a `CustomRequester`: it takes the manifest's `request_parameters`
    and `request_body_json` itself (the CDK builds them only for a plain HttpRequester) and streams
    its answers when its decoder asks for it. A provider's requester adds what the manifest
    language cannot say.

    It also serves every account of a block (`$parameters.config_block`; see accounts.py): for a
    slice of account "Client B" the URL and the request options are interpolated with the config as
    that account's single form (`config_for`), and a failure says which account it was.
    """

    request_parameters: Mapping[str, Any] | None = None
    request_body_json: Mapping[str, Any] | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._block = (parameters or {}).get("config_block")
        self._provider_name = str((parameters or {}).get("provider_name") or "The API")
        self._parameters_given = parameters
        self._per_account: dict[str, tuple[Config, InterpolatedRequestOptionsProvider]] = {}
        self._lock = threading.Lock()
        self.request_options_provider = self._options_provider(self.config)
        self.stream_response = self.decoder.is_stream_response()
        super().__post_init__(parameters)

    def _options_provider(self, config: Config) -> InterpolatedRequestOptionsProvider:
        return InterpolatedRequestOptionsProvider(
            request_parameters=self.request_parameters,
            request_body_json=self.request_body_json,
            config=config,
            parameters=self._parameters_given,
        )

    def _account(self, stream_slice: StreamSlice | None) -> tuple[Config, InterpolatedRequestOptionsProvider] | None:
        name = account_of(stream_slice) if self._block else None
        if name is None:
            return None
        found = self._per_account.get(name)
        if found is None:
            with self._lock:
                config = account_config(self.config, self._block, name)
                found = self._per_account.setdefault(name, (config, self._options_provider(config)))
        return found

    def config_for(self, stream_slice: StreamSlice | None) -> Config:
        """The config as the slice's account sees it (the config itself in the single-account form)."""
        account = self._account(stream_slice)
        return self.config if account is None else account[0]

    def get_url(
        self,
        *,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> str:
        context = get_interpolation_context(stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token)
        return str(self._url.eval(self.config_for(stream_slice), **context))

    def get_request_params(
        self,
        *,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> MutableMapping[str, Any]:
        params = self._options_for(stream_slice).get_request_params(
            stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
        )
        window = window_bounds(stream_slice)
        if window is None:
            return params
        return {**params, **self.window_params(window[0], window[1], self.config_for(stream_slice))}

    def window_params(self, first: dt.datetime, last: dt.datetime, config: Config) -> Mapping[str, Any]:
        """The query parameters a provider asks a date window with (its first and last second, UTC),
        in the config of the slice's account; none here (the manifest's `request_parameters` say it)."""
        return {}

    def get_request_body_json(
        self,
        *,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any] | None:
        return self._options_for(stream_slice).get_request_body_json(
            stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
        )

    def _options_for(self, stream_slice: StreamSlice | None) -> InterpolatedRequestOptionsProvider:
        account = self._account(stream_slice)
        return self._request_options_provider if account is None else account[1]

    def send_request(
        self, stream_state: StreamState | None = None, stream_slice: StreamSlice | None = None, **kwargs: Any
    ) -> requests.Response | None:
        try:
            return super().send_request(stream_state=stream_state, stream_slice=stream_slice, **kwargs)
        except AirbyteTracedException as error:
            label = self.partition_label(stream_slice)
            if label and error.message:
                error.message = for_account(
                    error.message, self._provider_name, self._block if self._block_named_in_messages else None, label
                )
            raise

    _block_named_in_messages = True  # messages name the block's keys ("Check ria.api_key."): said of the account

    def partition_label(self, stream_slice: StreamSlice | None) -> str | None:
        """How messages name the slice's account ("account «Client B»"), None in the single form."""
        name = account_of(stream_slice) if self._block else None
        return None if name is None else f"account «{name}»"


class PartitionsOnly(PartitionRouter):
    """A partition router that only names partitions: it adds nothing to the requests (the requester
    reads the partition) and keeps no state of its own."""

    def get_request_params(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_data(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_stream_state(self) -> Mapping[str, StreamState] | None:
        return None


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
    `_invalid_fields` is in every record, null when every value was right. Each (stream, field) is
    reported once in the log, so a vendor change is never silent. A plain type check per field,
    not a JSON-schema validation per record: that would cost more than the rest of the sync.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = parameters.get("name", "")
        self._provider = parameters.get("provider_name", "")
        self._types = _top_level_types(self._stream)
        self._reported: set = set()

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
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

    def _repair(self, record: dict[str, Any], key: str, value: Any, field: _FieldType) -> Any:
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
                self._provider or "API",
                self._stream,
                type(value).__name__,
                key,
                " or ".join(kinds),
            )
        return None


@dataclass
class _FieldType:
    """What the schema allows for one value: python types, JSON type names, and what is inside."""

    pytypes: tuple
    kinds: list
    items: _FieldType | None = None
    properties: dict[str, _FieldType] | None = None
    exact: frozenset = frozenset()  # types whose values conform without looking inside (set by _field_type)


def _field_type(spec: Mapping[str, Any]) -> _FieldType | None:
    kinds = spec.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if not kinds:
        return None
    field = _FieldType(tuple(t for kind in kinds for t in _JSON_TYPES.get(kind, (object,))), [k for k in kinds if k != "null"])
    if isinstance(spec.get("items"), Mapping):
        field.items = _field_type(spec["items"])
    if isinstance(spec.get("properties"), Mapping):
        field.properties = {k: f for k, v in spec["properties"].items() if (f := _field_type(v)) is not None}
    exact = {
        t for t in field.pytypes if t is not object and not (t is list and field.items) and not (t is dict and field.properties)
    }
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


def _top_level_types(stream: str) -> dict[str, _FieldType]:
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


@dataclass
class EventTimeUtc(RecordTransformation):
    """Adds `event_time_utc`: the record's main timestamp (`$parameters.event_time_field`) as a UTC
    instant, "2024-03-31T00:30:00Z", under this one name in every stream, so that calls of every
    provider can be put side by side. The API's own field stays as sent.

    The field is read in the zone the API speaks: the key `$parameters.time_zone_key` of the
    provider's block (`$parameters.config_block`) as the record's account sees it, else
    `$parameters.default_time_zone` (UTC unless given). A value that is not a date-time gives null.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._field = parameters.get("event_time_field")
        self._block = parameters.get("config_block")
        self._zone_key = parameters.get("time_zone_key")
        self._default_zone = parameters.get("default_time_zone") or "UTC"
        self._zones: dict[str | None, str] = {}

    def zone(self, config: Mapping[str, Any], stream_slice: StreamSlice | None) -> str:
        if not self._zone_key:
            return self._default_zone
        name = account_of(stream_slice)
        found = self._zones.get(name)
        if found is None:
            block = (config.get(self._block) or {}) if name is None else account_block(config, self._block, name)
            found = self._zones.setdefault(name, (self._zone_key and block.get(self._zone_key)) or self._default_zone)
        return found

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        record[EVENT_TIME_FIELD] = clock(self.zone(config or {}, stream_slice)).utc_text(record.get(self._field))


@dataclass
class AccountField(RecordTransformation):
    """Adds `account`: the name of the account the record was read for (`accounts` of the block), null
    in the single-account form -- in every record, so that every record has the same keys."""

    parameters: InitVar[Mapping[str, Any]]

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        record["account"] = account_of(stream_slice)


def within_window(records: Iterable[Mapping[str, Any]], stream_slice: StreamSlice | None) -> Iterator[Mapping[str, Any]]:
    """The records whose `event_time_utc` falls in the slice's window (both ends included, to the second).

    Where the window asked of the API is wider than the slice (its bounds in the API's own zone, a
    second or a day more at each end, so that no reading of the bounds loses a record), this keeps
    each record in exactly one window. A record without `event_time_utc` is kept: better twice than never.
    """
    window = window_bounds(stream_slice)
    if window is None:
        yield from records
        return
    first, last = utc_text(window[0]), utc_text(window[1])
    for record in records:
        moment = record.get(EVENT_TIME_FIELD)
        if not isinstance(moment, str) or first <= moment <= last:
            yield record


@dataclass
class EventTimeWindowFilter(RecordFilter):
    """Keeps the records of the window itself, by `event_time_utc` (see `within_window`). The stream's
    record selector must transform before it filters (`transform_before_filtering: true`)."""

    def filter_records(self, records, stream_state, stream_slice=None, next_page_token=None):
        return within_window(records, stream_slice)

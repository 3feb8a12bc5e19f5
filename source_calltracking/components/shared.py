"""Components every provider uses: an error handler whose filters parse the body once, a requester
base for requests the manifest language cannot build, and the schema type guard."""

from __future__ import annotations

import logging
import pkgutil
import re
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Mapping, Optional, Union

import orjson
import requests

from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.request_options.interpolated_request_options_provider import (
    InterpolatedRequestOptionsProvider,
)
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_calltracking.components.answers import Answer, ParsedResponse, answer_of

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

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> ErrorResolution:
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
    language cannot say."""

    request_parameters: Optional[Mapping[str, Any]] = None
    request_body_json: Optional[Mapping[str, Any]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.request_options_provider = InterpolatedRequestOptionsProvider(
            request_parameters=self.request_parameters, request_body_json=self.request_body_json,
            config=self.config, parameters=parameters)
        self.stream_response = self.decoder.is_stream_response()
        super().__post_init__(parameters)


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

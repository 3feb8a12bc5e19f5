"""Custom components for what the manifest language cannot say. Each is small and single-purpose."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, Mapping, MutableMapping, Optional, Union

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.page_increment import PageIncrement
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking import callkeeper_statuses


def _json_body(response: requests.Response) -> Any:
    """The decoded body, or None when it is not JSON (the error handler retries those)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


@dataclass
class CalltrackingRecordExtractor(RecordExtractor):
    """ckct.ru answers with either the `inbound`/`info`/`payload` envelope (seed 000) or a bare
    array of calls (seed 001): yield the calls of both."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = _json_body(response)
        if isinstance(body, list):
            calls = body
        elif isinstance(body, dict):
            calls = body.get("payload") or []
        else:
            calls = []
        return [call for call in calls if isinstance(call, dict)]


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
        body = _json_body(response)
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


# ---------------------------------------------------------------------------------------------
# CallKeeper REST API (api.callkeeper.ru)
# ---------------------------------------------------------------------------------------------

_ENVELOPE_KEYS = ("result", "data")


def callkeeper_records(body: Any) -> list:
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
        return [item for item in body if isinstance(item, dict) and item.get("status") != "fail"]
    return []


@dataclass
class CallkeeperRecordExtractor(RecordExtractor):
    """Records of every answer shape `callkeeper_records` accepts."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        return callkeeper_records(_json_body(response))


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

    Other responses get no opinion (None), so the next strategy of the error handler decides.
    The error handler's `max_retries` must be at least `retries`. All fields may interpolate `config`.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    retries: Union[int, str] = 5
    first_wait_seconds: Union[float, str] = 60
    exhausted_message: str = "The API quota is used up."

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._retries = InterpolatedString.create(str(self.retries), parameters=parameters)
        self._first_wait = InterpolatedString.create(str(self.first_wait_seconds), parameters=parameters)
        self._message = InterpolatedString.create(self.exhausted_message, parameters=parameters)

    def backoff_time(
        self,
        response_or_exception: Optional[Union[requests.Response, requests.RequestException]],
        attempt_count: int,
    ) -> Optional[float]:
        if not isinstance(response_or_exception, requests.Response) or response_or_exception.status_code != 429:
            return None
        retries = int(float(self._retries.eval(self.config)))
        if attempt_count > retries:
            raise AirbyteTracedException(
                message=self._message.eval(self.config, response=_json_body(response_or_exception) or {}),
                internal_message=f"HTTP 429 after {retries} retries: {response_or_exception.text[:500]}",
                failure_type=FailureType.transient_error,
            )
        # Never 0: a falsy wait would hand the response to the CDK's endless rate-limit loop.
        return max(float(self._first_wait.eval(self.config)), 0.001) * 2 ** (attempt_count - 1)

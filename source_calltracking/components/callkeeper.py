"""CallKeeper REST API (api.callkeeper.ru), as the vendor's document "Использование HTTPS REST API
CallKeeper" describes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_calltracking.components import callkeeper_statuses
from source_calltracking.components.answers import Answer, ParsedResponse, json_body, released, spooled_records
from source_calltracking.components.shared import ParsedOnceErrorHandler, RequesterWithOptions
from source_calltracking.components.windows import wall_clock


@dataclass
class CallkeeperErrorHandler(ParsedOnceErrorHandler):
    """The filters see an error object even when it comes in a one-element array.

    The document shows errors as `{"status":"fail", "reason":"Not the correct key api"}` (HTTP 403);
    the vendor's published clients read them as `[{"status":"fail", "reason":…}]` too. Each filter
    then reads `response.reason` and `response.status` of one object.
    """

    def resolve(self, response: ParsedResponse, answer: Answer):
        body = answer.body
        if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict) and body[0].get("status") == "fail":
            response = response.seen_as(body[0])
        return super().resolve(response, answer)


@dataclass
class CallkeeperWindowRequester(RequesterWithOptions):
    """Sends each date window in a form the document shows.

    The document gives `date[from]`/`date[to]` only as `2017-05-01`, `2005-08-15T23:59:59` and
    `2005-08-16T24:00:00` -- no offset -- beside `time_zone`, "the time zone in the IANA format",
    which says how they are read. A server that parses only those forms answers
    `2024-01-01T00:00:00+00:00` with 406 "Wrong data type!". So the window's bounds go out as
    wall-clock times in the request's `time_zone` (`callkeeper.time_zone`, else UTC), always sent.

    The document does not say whether `date[to]` includes its own second, nor which moment a
    wall-clock time means when a daylight-saving change repeats it. The bounds asked for are
    therefore one second wider than the window, and moved out of a repeated hour;
    the stream's `EventTimeWindowFilter` keeps the calls of the window itself, by their `date` (UTC,
    says the document, read as `event_time_utc`). Windows so meet without a gap or an overlap,
    whatever the server's reading.
    """

    def window_params(self, first: dt.datetime, last: dt.datetime, config: Config) -> Mapping[str, Any]:
        zone = time_zone(config)
        return {
            "date[from]": wall_clock(first - dt.timedelta(seconds=1), zone, earlier=True),
            "date[to]": wall_clock(last + dt.timedelta(seconds=1), zone, earlier=False),
            "time_zone": zone.key,
        }


def time_zone(config: Mapping[str, Any]) -> ZoneInfo:
    """The zone the windows are asked in: `callkeeper.time_zone`, else UTC."""
    return ZoneInfo((config.get("callkeeper") or {}).get("time_zone") or "UTC")


_ENVELOPE_KEYS = ("result", "data")


def callkeeper_records(body: Any) -> Iterable[dict[str, Any]]:
    """The records of a CallKeeper REST answer, whatever its shape.

    The document does not show the answer of the read methods. Published clients read
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
        return released(body, _is_record)
    return []


def _is_record(item: Any) -> bool:
    return isinstance(item, dict) and item.get("status") != "fail"


@dataclass
class CallkeeperRecordExtractor(RecordExtractor):
    """Records of every answer shape `callkeeper_records` accepts (a large bare array from its file)."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        spooled = spooled_records(response)
        if spooled is not None:
            return filter(_is_record, spooled.items())
        return callkeeper_records(json_body(response))


@dataclass
class CallkeeperStatusTexts(RecordTransformation):
    """Adds `status_title` and `status_description`: the call's status pair (`status_code`,
    `status2_code`) in the words of the document's status table (callkeeper_statuses.py); null for a
    pair the table does not list."""

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        record["status_title"], record["status_description"] = callkeeper_statuses.decode(
            record.get("status_code"), record.get("status2_code")
        )

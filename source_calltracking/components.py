"""Custom components for what the manifest language cannot say. Each is small and single-purpose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import orjson
import requests

from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.page_increment import PageIncrement
from airbyte_cdk.sources.types import Record, StreamSlice


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

"""Custom components for what the manifest language cannot say. Each is small and single-purpose."""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.offset_increment import OffsetIncrement
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.page_increment import PageIncrement
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


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


# ---------------------------------------------------------------------------------------
# UIS / CoMagic Data API
# ---------------------------------------------------------------------------------------

UIS_PAGE_SIZE = 10_000  # the API's maximum `limit`
UIS_MAX_OFFSET = 100_000  # the API's maximum `offset`: one request reads at most 110000 rows
_TOTAL_ITEMS = "_uis_total_items"
_LOGGER = logging.getLogger("airbyte")


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
        body = _json_body(response)
        if not isinstance(body, dict):
            return []
        result = body.get("result")
        if isinstance(result, dict):
            metadata = result.get("metadata") or result.get("meta_data") or {}
            total = metadata.get("total_items") if isinstance(metadata, dict) else None
            setattr(response, _TOTAL_ITEMS, total if isinstance(total, int) else None)
            rows = result.get("data") or []
            return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        data = error.get("data") if isinstance(error.get("data"), dict) else {}
        if data.get("mnemonic") == "method_not_found":
            _LOGGER.warning(
                f"UIS: the API does not offer {self._method} (method_not_found: {error.get('message') or 'no message'}); "
                f"the documentation lists this API v3.0 method as not implemented yet. Stream {self._stream} "
                "is skipped with no records; the other streams go on."
            )
        return []


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

"""RIA.com calls_stat, as the vendor's document "Получение данных о звонке" describes it, behind the
API gateway whose error codes the vendor's public API readme lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking.components.answers import Answer, ParsedResponse, json_body, released, spooled_records
from source_calltracking.components.shared import ParsedOnceErrorHandler, RequesterWithOptions, is_object

QUOTA_CODE = "OVER_RATE_LIMIT"
DEFAULT_TIME_ZONE = "Europe/Kyiv"  # the zone of `date` and of the `from`/`to` days: see RiaRequester
DEFAULT_QUOTA_RETRIES = 6
DEFAULT_QUOTA_WAIT_SECONDS = 60

# The gateway's key errors (HTTP 403), in plain words.
KEY_ERRORS = {
    "API_KEY_MISSING": "no API key was sent",
    "API_KEY_INVALID": "the API key was not accepted",
    "API_KEY_DISABLED": "the API key is disabled",
    "API_KEY_UNAUTHORIZED": "the API key is not authorised for this method",
    "API_KEY_UNVERIFIED": "the API key is not verified yet",
}


def gateway_error(body: Any) -> Mapping[str, Any]:
    """The gateway's `{"error": {"code": "…", "message": "…"}}`, or {}."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


@dataclass
class RiaRequester(RequesterWithOptions):
    """Asks for the window as whole days of RIA.com's zone, one day wider at each end.

    The document takes `from`/`to` as "year - month - day" and answers `date` as
    "2021-07-31T15:57:01", both without a zone. RIA.com serves Ukraine, so they are read as Kyiv time
    (`ria.time_zone`, default Europe/Kyiv; Kyiv observes daylight saving). The window is a range of
    UTC instants (`start_date`/`end_date` mean the same instants for every provider): the request
    covers the Kyiv days it touches and one more at each end, so that a server cutting its days in
    another zone still answers every call of the window, and `EventTimeWindowFilter` keeps the calls
    of the window itself by `event_time_utc`. Still one request per window: the quota is tight.
    """

    def window_params(self, first: dt.datetime, last: dt.datetime, config: Config) -> Mapping[str, Any]:
        zone = ZoneInfo((config.get("ria") or {}).get("time_zone") or DEFAULT_TIME_ZONE)
        return {
            "from": (first.astimezone(zone).date() - dt.timedelta(days=1)).isoformat(),
            "to": (last.astimezone(zone).date() + dt.timedelta(days=1)).isoformat(),
        }


@dataclass
class RiaErrorHandler(ParsedOnceErrorHandler):
    """The key errors of the gateway, `API_KEY_*` with HTTP 403, are config errors in plain words
    (`KEY_ERRORS`): "RIA.com: the API key is disabled (API_KEY_DISABLED: …). Check ria.api_key.".
    The other answers go to the manifest's filters."""

    def resolve(self, response: ParsedResponse, answer: Answer) -> ErrorResolution:
        error = gateway_error(answer.body)
        code = error.get("code")
        if isinstance(code, str) and code.startswith("API_KEY_"):
            said = f": {error['message']}" if error.get("message") else ""
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.config_error,
                error_message=(
                    f"RIA.com: {KEY_ERRORS.get(code, 'the API key was not accepted')} ({code}{said}). Check ria.api_key."
                ),
            )
        return super().resolve(response, answer)


@dataclass
class RiaQuotaBackoff(BackoffStrategy):
    """Waits that grow for OVER_RATE_LIMIT without a `Retry-After`: `ria.rate_limit_wait_seconds`,
    then twice as long each time.

    RIA.com's free plan is reported at about 30 requests an hour, its 429 without `Retry-After`
    (a `Retry-After` that does come is obeyed first, by the strategy before this one). The same
    answer in a body sent with HTTP 200 is a quota answer too. When `ria.rate_limit_retries` waits
    did not help, the stream ends with a sentence saying so and what to do, instead of the CDK's
    "API rate limit exceeded."; the state of the windows read so far has already been emitted, so
    the next sync resumes there. Once the quota did not recover for one request, later quota
    answers of the stream for the same key (its other windows) end at once instead of waiting all over
    again; another account's key has a quota of its own. Other answers get no opinion (None), so the
    next strategy decides.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._exhausted_keys: set = set()
        block = self.config.get("ria") or {}
        self.retries = int(block.get("rate_limit_retries", DEFAULT_QUOTA_RETRIES))
        self.first_wait = float(block.get("rate_limit_wait_seconds", DEFAULT_QUOTA_WAIT_SECONDS))

    def backoff_time(
        self,
        response_or_exception: requests.Response | requests.RequestException | None,
        attempt_count: int,
    ) -> float | None:
        if not isinstance(response_or_exception, requests.Response) or not is_quota_answer(response_or_exception):
            return None
        key = _api_key_of(response_or_exception)
        if attempt_count > self.retries or key in self._exhausted_keys:
            self._exhausted_keys.add(key)
            raise AirbyteTracedException(
                message=quota_used_up_message(self.retries),
                internal_message=f"HTTP {response_or_exception.status_code} after {self.retries} retries",
                failure_type=FailureType.transient_error,
            )
        # Never 0: a falsy wait would hand the response to the CDK's endless rate-limit loop.
        return max(self.first_wait, 0.001) * 2 ** (attempt_count - 1)


def _api_key_of(response: requests.Response) -> str | None:
    """The key a request was sent with (the quota is per key)."""
    url = getattr(getattr(response, "request", None), "url", None) or ""
    return (parse_qs(urlsplit(url).query).get("api_key") or [None])[0]


def is_quota_answer(response: requests.Response) -> bool:
    return response.status_code == 429 or gateway_error(json_body(response)).get("code") == QUOTA_CODE


def quota_used_up_message(retries: int) -> str:
    after = f" and did not recover after {retries} {'retry' if retries == 1 else 'retries'}" if retries > 0 else ""
    return (
        f"RIA.com: the API quota for this key is used up ({QUOTA_CODE}){after}. Run the sync again later (the quota is "
        "about 30 requests an hour per key); the calls read so far are kept in the state, and a larger ria.window_days "
        "spends fewer requests."
    )


@dataclass
class BareArrayExtractor(RecordExtractor):
    """The objects of a bare JSON array (the document's answer), read from the body the error handler
    parsed or, when large, from its file. Anything else holds no records: error objects are the
    error handler's, and an item that is not an object is not a record (the CDK's DpathExtractor
    would turn a lone object into a record and crash on a string item)."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        spooled = spooled_records(response)
        if spooled is not None:
            return filter(is_object, spooled.items())
        body = json_body(response)
        return released(body, is_object) if isinstance(body, list) else []

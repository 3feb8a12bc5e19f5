"""What one UIS token may read: the clients of a partner token (`get.customer_users`) and the time
zone of each account (`get.account`), asked once per sync and kept.

From the project's API notes: `get.customer_users` ("available to: partner") lists the client users
a partner token may act for -- `id` ("used as `user_id` in all client methods"), `login`, `name` --
paged like a report; `get.account` answers `[{"app_id", "name", "timezone"}]`, the account's IANA
zone, in which the reports' times and `date_from`/`date_till` are read.

These few calls are not streams: they are made before a stream can ask its first window, so they
go straight to the API with a small retry loop of their own (limit_exceeded waits `minute_reset`,
a 429 or 5xx waits its `Retry-After` when it has one, internal_error, HTTP 5xx and network errors
are retried), and their errors are said in the words of
the UIS message table (uis.py).

They spend the token's budget like any other call: the Data API document's limits ("the number of
requests per minute/day", counted down in every answer's `metadata.limits`) count every method
call, not only the reports. So each answer here is paced by `wait_when_the_minute_is_spent`, as the
reports' requester paces its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategies.header_helper import (
    get_numeric_value_from_header,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking.components.zones import known_zone

logger = logging.getLogger("airbyte")

DEFAULT_BASE_URL = "https://dataapi.uiscom.ru"
ATTEMPTS = 5
CLIENTS_PAGE = 10_000  # the largest `limit` of a report
CLIENT_FIELDS = ["id", "login", "name"]
# get.account answers that say nothing of the account, only that this host or plan lacks the method.
ZONE_UNKNOWN = ("method_not_found", "method_component_disabled")


@dataclass(frozen=True)
class UisClient:
    user_id: int
    login: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        """How messages name the client: «name» (login …, user_id …)."""
        shown = self.name or self.login
        if not shown:
            return f"client user_id {self.user_id}"
        login = f"login {self.login}, " if self.login and self.login != shown else ""
        return f"client «{shown}» ({login}user_id {self.user_id})"


def endpoint(config: Mapping[str, Any]) -> str:
    return ((config.get("uis") or {}).get("base_url") or DEFAULT_BASE_URL).rstrip("/") + "/v2.0"


class UisDirectory:
    """The clients and zones of the token of one config, each asked once (thread-safe)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config
        self._block = config.get("uis") or {}
        self._lock = threading.Lock()
        self._zones: dict[int | None, str] = {}
        self._clients: list[UisClient] | None = None
        self._session = requests.Session()

    # ---- clients ------------------------------------------------------------------------------
    def clients(self) -> list[UisClient]:
        """The clients to read: those of `uis.user_ids` (a list), every client of the token ("all"),
        or none (the token's own account, with `uis.user_id` when set)."""
        wanted = self._block.get("user_ids")
        if wanted is None or wanted == []:
            return []
        if wanted == "all":
            return self.customer_users()
        known = {client.user_id: client for client in self._customer_users_if_offered()}
        return [known.get(int(user_id)) or UisClient(int(user_id)) for user_id in wanted]

    def client(self, user_id: int | None) -> UisClient | None:
        if user_id is None:
            return None
        found = next((c for c in (self._clients or []) if c.user_id == int(user_id)), None)
        return found or UisClient(int(user_id))

    def customer_users(self) -> list[UisClient]:
        """Every client user of the partner token, all pages of `get.customer_users`."""
        with self._lock:
            if self._clients is None:
                self._clients = self._read_customer_users()
            return list(self._clients)

    def _customer_users_if_offered(self) -> list[UisClient]:
        """The clients with their names, when the token may list them; names are only for messages."""
        try:
            return self.customer_users()
        except AirbyteTracedException as error:
            logger.info(f"UIS: could not list the token's clients for their names ({error.message}); naming them by user_id.")
            with self._lock:
                self._clients = []
            return []

    def _read_customer_users(self) -> list[UisClient]:
        clients: list[UisClient] = []
        total: int | None = None
        while total is None or len(clients) < total:
            result = self._call("get.customer_users", {"limit": CLIENTS_PAGE, "offset": len(clients), "fields": CLIENT_FIELDS})
            rows = result.get("data")
            metadata = result.get("metadata") or {}
            total = metadata.get("total_items") if isinstance(metadata.get("total_items"), int) else None
            if not isinstance(rows, list):
                raise _error("UIS: the API answered get.customer_users without a list of clients; the clients cannot be read.")
            clients.extend(
                UisClient(int(row["id"]), row.get("login"), row.get("name"))
                for row in rows
                if isinstance(row, dict) and isinstance(row.get("id"), (int, str)) and str(row["id"]).isdigit()
            )
            if not rows or total is None:
                break
        if total is not None and len(clients) != total:
            raise _error(
                f"UIS: get.customer_users reported {total} clients but {len(clients)} were received; "
                "the list of clients is incomplete, so the sync stopped rather than skip a client. Sync again later."
            )
        logger.info(f"UIS: the token acts for {len(clients)} client(s): " + ", ".join(c.label for c in clients))
        return clients

    # ---- zones --------------------------------------------------------------------------------
    def zone(self, user_id: int | None) -> str:
        """The IANA zone of the account (`user_id`: a client of a partner token, None: the token's own
        account, or `uis.user_id`). A failure is kept too: every window of the account fails alike,
        without asking again."""
        user_id = user_id if user_id is not None else self._block.get("user_id")
        key = None if user_id is None else int(user_id)
        found = self._zones.get(key)
        if found is None:
            with self._lock:
                found = self._zones.get(key)
                if found is None:
                    try:
                        found = self._read_zone(key)
                    except AirbyteTracedException as error:
                        found = error
                    self._zones[key] = found
        if isinstance(found, AirbyteTracedException):
            raise AirbyteTracedException(
                message=found.message, internal_message=found.internal_message, failure_type=found.failure_type
            )
        return found

    def _read_zone(self, user_id: int | None) -> str:
        """The zone `get.account` tells; `uis.time_zone` when it cannot tell it.

        A host or plan without the method (`method_not_found`, `method_component_disabled`) will never
        tell it: without `uis.time_zone` that is a config error that says to set it. An API that did
        not answer at all (5xx, network errors, internal_error or limit_exceeded on every attempt) may
        answer on the next sync: that stays the transient error of `_call`, which names get.account
        and its last problem -- telling the user to set a zone would send them after the wrong cause.
        """
        fallback = self._block.get("time_zone")
        try:
            result = self._call("get.account", {} if user_id is None else {"user_id": user_id})
        except UisAnswerError as error:
            if error.mnemonic in ZONE_UNKNOWN or error.failure_type == FailureType.transient_error:
                if fallback:
                    logger.info(
                        f"UIS: get.account did not tell the account's time zone ({error.message}); "
                        f"using uis.time_zone {fallback}."
                    )
                    return str(fallback)
                if error.failure_type == FailureType.transient_error:
                    raise
                raise _error(
                    f"UIS: the API did not tell the account's time zone (get.account answered "
                    f"{error.mnemonic}), in which it reads date_from/date_till and writes report times. "
                    "Set uis.time_zone to the account's zone (for example Europe/Moscow).",
                    FailureType.config_error,
                    error.mnemonic,
                ) from None
            if error.mnemonic == "forbidden":
                raise _error(account_forbidden_message(error.api_message), FailureType.config_error, "forbidden") from None
            raise
        rows = result.get("data")
        row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else rows if isinstance(rows, dict) else {}
        zone = row.get("timezone")
        if isinstance(zone, str) and known_zone(zone):
            return zone
        if fallback:
            return str(fallback)
        raise _error(
            f"UIS: the API did not tell the account's time zone (get.account answered timezone {zone!r}), in which "
            "it reads date_from/date_till and writes report times. Set uis.time_zone to the account's zone "
            "(for example Europe/Moscow).",
            FailureType.config_error,
        )

    # ---- transport ----------------------------------------------------------------------------
    def _call(self, method: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        from source_calltracking.components.uis import config_error_message, uis_error  # the one message table

        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": method,
            "params": {"access_token": self._block.get("access_token"), **params},
        }
        timeout = float(self._config.get("request_timeout_seconds") or 60)
        backoff = float(self._config.get("retry_backoff_seconds") or 2)
        problem = "no answer"
        for attempt in range(1, ATTEMPTS + 1):
            wait = backoff * 2 ** (attempt - 1)
            try:
                response = self._session.post(endpoint(self._config), json=body, timeout=timeout)
            except requests.RequestException as error:
                problem = f"a network error ({type(error).__name__})"
            else:
                answer = _json(response)
                if response.status_code >= 500 or response.status_code == 429 or answer is None:
                    problem = (
                        f"HTTP {response.status_code}"
                        if answer is not None or response.status_code != 200
                        else "a body that is not JSON"
                    )
                    wait = retry_after_seconds(response, default=wait)
                elif isinstance(answer.get("result"), dict):
                    wait_when_the_minute_is_spent(answer, self._config)
                    return answer["result"]
                else:
                    error = uis_error(answer)
                    mnemonic = error["mnemonic"]
                    if mnemonic in ("limit_exceeded", "internal_error"):
                        problem = mnemonic
                        reset = (error.get("limits") or {}).get("minute_reset")
                        if mnemonic == "limit_exceeded" and isinstance(reset, (int, float)):
                            wait = min(float(reset) + 1, 120)
                    else:
                        message = config_error_message(error, method)
                        if message is not None:
                            raise _error(message, FailureType.config_error, mnemonic, error.get("message"))
                        field = f", field {error['field']}" if error.get("field") else ""
                        raise _error(
                            f"UIS: the API rejected the request to {method} ({mnemonic or error.get('code')}{field}: "
                            f"{error.get('message')}).",
                            FailureType.system_error,
                            mnemonic,
                        )
            if attempt < ATTEMPTS:
                time.sleep(wait)
        raise _error(
            f"UIS: {method} did not answer after {ATTEMPTS} attempts (last: {problem}). Sync again later.",
            FailureType.transient_error,
        )


MAX_WAIT_SECONDS = 120


def retry_after_seconds(response: requests.Response, default: float) -> float:
    """The wait a server asks for in `Retry-After` (read by the CDK's own helper, as the streams'
    `WaitTimeFromHeader` reads it; at most MAX_WAIT_SECONDS), else `default`."""
    seconds = get_numeric_value_from_header(response, "Retry-After", None)
    return default if seconds is None else min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def wait_when_the_minute_is_spent(body: Any, config: Mapping[str, Any]) -> None:
    """Wait for the minute's budget to reset when fewer requests are left in it (`result.metadata.
    limits.minute_remaining`) than can be in flight at once (`concurrency_level`), so that the API is
    not asked for more than it grants. Every answer of the Data API reports the budget, whatever the
    method: the reports' requester and the account calls here pace by it alike."""
    result = body.get("result") if isinstance(body, dict) else None
    metadata = result.get("metadata") if isinstance(result, dict) else None
    limits = metadata.get("limits") if isinstance(metadata, dict) else None
    if not isinstance(limits, dict):
        return
    remaining, reset = limits.get("minute_remaining"), limits.get("minute_reset")
    in_flight = int((config or {}).get("concurrency_level") or 4)
    if isinstance(remaining, int) and isinstance(reset, (int, float)) and remaining < in_flight and 0 < reset <= MAX_WAIT_SECONDS:
        logger.info(
            f"UIS: {remaining} request(s) left in this minute's Data API budget (minute_limit "
            f"{limits.get('minute_limit')}); waiting {reset} s for it to reset before the next request."
        )
        time.sleep(reset)


def _json(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class UisAnswerError(AirbyteTracedException):
    """An error the API answered (or the lack of an answer), with its mnemonic and text when it gave them."""

    def __init__(
        self, message: str, failure_type: FailureType, mnemonic: str | None = None, api_message: str | None = None
    ) -> None:
        super().__init__(message=message, internal_message=message, failure_type=failure_type)
        self.mnemonic = mnemonic
        self.api_message = api_message


def _error(
    message: str,
    failure_type: FailureType = FailureType.system_error,
    mnemonic: str | None = None,
    api_message: str | None = None,
) -> UisAnswerError:
    return UisAnswerError(message, failure_type, mnemonic, api_message)


def account_forbidden_message(api_message: str | None) -> str:
    """`forbidden` from get.account. The table's sentence for `forbidden` ("the token's user may not call
    get.account ... Give the user access to this report, or remove the stream from the sync") is wrong
    here: get.account is no report and no stream, and it is the first request made for an account (its
    zone is needed before any window), so this answer means none of the account's reports can be read
    -- for a partner token, the client's access is withdrawn (the API notes: agent tokens pass `user_id`
    on every client method, `get.customer_users` lists the clients). Found by
    integration_tests/uis/test_agency.py, whose forbidden client was named with that advice."""
    return (
        "UIS: the token may not read this account (forbidden, answered to get.account, the first request for an "
        "account), so none of its reports can be read; have the access restored, or, for a client of a "
        "partner token, leave it out of uis.user_ids. "
        f"(The API said: {api_message or 'no message'})"
    )


# Set by the source on its config: each source object is one sync, whose answers are its own.
SYNC_KEY = "__calltracking_sync"
_DIRECTORIES: dict[tuple[str, str, Any], UisDirectory] = {}
_DIRECTORIES_LOCK = threading.Lock()


def directory(config: Mapping[str, Any]) -> UisDirectory:
    """The one directory of a config's token in one sync (shared by every UIS stream of the sync;
    `SYNC_KEY` tells one source's syncs from another's in the same process)."""
    block = config.get("uis") or {}
    key = (
        endpoint(config),
        str(block.get("access_token")),
        repr((block.get("user_ids"), block.get("user_id"), block.get("time_zone"), config.get(SYNC_KEY))),
    )
    with _DIRECTORIES_LOCK:
        found = _DIRECTORIES.get(key)
        if found is None:
            found = _DIRECTORIES[key] = UisDirectory(config)
        return found

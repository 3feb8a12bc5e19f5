"""Emulator of the UIS / CoMagic Data API (JSON-RPC 2.0), as seed 004 and API_NOTES.md describe it.

`POST /uis/v2.0` (and `/uis/v3.0`) with `{"jsonrpc": "2.0", "id": …, "method": "get.…_report",
"params": {…}}`. Every answer is HTTP 200: a `result` with `data` and `metadata` (`total_items`,
`limits`, `api_version`), or a JSON-RPC `error` whose `data` carries `mnemonic`, `field`, `value`,
`params` and `metadata`.

What it enforces, like the real API: the access token (valid, expired, blocked), the caller's IP
(`ip_not_whitelisted`), an active account, `user_id` for agent accounts, documented parameters
only, `limit` at most 10000 and `offset` at most 100000, `date_from`/`date_till` as
`YYYY-MM-DD hh:mm:ss` at most 3 months (and 90 days) apart (`date_interval_limit_reached`),
known names in `fields` (only the "returned by default" fields come back without it), and a
per-token minute and day request budget counted down in `metadata.limits` (one budget per token:
every client of an agent token spends the same one). The two API v3.0 methods answer
`method_not_found` unless `v3_implemented` is set. Errors of its own on demand: `inject(mnemonic,
...)`, a rule of the emulator's one fault plan.

Accounts and zones (API_NOTES.md; the report documents give no zone). A token reads one account's
data, a `UisClient`: its reports, its IANA zone and, for a client of an agent, its user. An agent
(partner) token has several clients: `get.customer_users` (partner only; a client token gets
`forbidden`, the method exists but is not the token's to call) lists them, and every client method
must name one in `user_id`; a client whose access is withdrawn answers `forbidden` to every client
method while `get.customer_users` still lists it. `get.account` answers the account's `timezone`.
Every datetime of a report row is the wall-clock time of that zone, `YYYY-MM-DD hh:mm:ss`, and
`date_from`/`date_till` are read in it: a time a daylight-saving change repeats is read as the seed
says (`uis_repeated_hour`), one it skips as the first instant after the gap. The rows themselves are
UTC instants (`timeline`), so that `expected(...)` can tell tests the truth in UTC.

Rows are generated lazily from `timeline.Timeline`s (row i at start + i * step), so a window
can hold a million rows at no cost until a page of it is served. The field list of every method
comes from tools/uis_fields.yaml, the table the connector's manifest and schemas come from.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from testkit.emulator.faults import Fault, FaultPlan
from testkit.emulator.server import Request, Response
from testkit.emulator.timeline import (
    UTC,
    Timeline,
    Zone,
    instant_of,
    iso_z,
    parse_utc,
    spread,
    utc_bound,
    wall_clock,
    with_edges,
    zone_of,
)
from testkit.emulator.variation import Variation

TABLE_PATH = Path(__file__).resolve().parents[2] / "tools" / "uis_fields.yaml"
TABLE: dict[str, dict[str, Any]] = yaml.safe_load(TABLE_PATH.read_text(encoding="utf-8"))

MAX_LIMIT = 10_000
MAX_OFFSET = 100_000
DEFAULT_LIMIT = 1000
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

V2_METHODS = {m for m, spec in TABLE.items() if spec["api_version"] == "2.0"}
V3_METHODS = {m for m, spec in TABLE.items() if spec["api_version"] == "3.0"}
DATED_METHODS = {m for m, spec in TABLE.items() if "date_from" in spec["request_params"]}
CURSOR_FIELD = {
    "get.communications_report": "date_time",
    "get.calls_report": "start_time",
    "get.call_legs_report": "start_time",
    "get.goals_report": "date_time",
    "get.chats_report": "date_time",
    "get.offline_messages_report": "date_time",
    "get.visitor_sessions_report": "date_time",
    "get.financial_call_legs_report": "start_time",
    "get.sales_report": "date_time",
    "get.api_requests_report": "date_time",
}
ID_BASE = {
    "get.communications_report": 1_000_000,
    "get.calls_report": 2_000_000,
    "get.call_legs_report": 3_000_000,
    "get.goals_report": 4_000_000,
    "get.chats_report": 5_000_000,
    "get.offline_messages_report": 6_000_000,
    "get.visitor_sessions_report": 7_000_000,
    "get.financial_call_legs_report": 8_000_000,
    "get.sales_report": 9_000_000,
}
VISITOR_BASE = 70_000_000
SESSIONS_PER_VISITOR = 5
ERROR_CODES = {
    "parse_error": -32700,
    "invalid_request": -32600,
    "method_not_found": -32601,
    "invalid_parameters": -32602,
    "internal_error": -32603,
    "access_token_invalid": -32001,
    "access_token_expired": -32001,
    "access_token_blocked": -32001,
    "auth_error": -32001,
    "forbidden": -32003,
    "ip_not_whitelisted": -32003,
    "account_inactive": -32003,
    "method_component_disabled": -32003,
    "parameter_component_disabled": -32003,
    "limit_exceeded": -32029,
    "required_parameter_missed": -32602,
    "invalid_parameter_value": -32602,
    "unexpected_parameters": -32602,
    "invalid_parameters_combination": -32602,
    "data_type_error": -32602,
    "date_interval_limit_reached": -32602,
    "sort_prohibited": -32602,
    "filter_prohibited": -32602,
}
MESSAGES = {
    "access_token_invalid": "Invalid access token",
    "access_token_expired": "Access token has been expired",
    "access_token_blocked": "Access token has been blocked",
    "auth_error": "Authorization error",
    "forbidden": "Access to the method is forbidden",
    "ip_not_whitelisted": "Your IP address is not in the white list",
    "account_inactive": "The customer account is inactive",
    "method_component_disabled": "The component required by the method is disabled",
    "parameter_component_disabled": "The component required by the parameter is disabled",
    "limit_exceeded": "The limit of requests has been exceeded",
    "internal_error": "Internal error, please try again later",
    "method_not_found": "Method not found",
}
CHAT_SOURCES = ("Посетитель", "Оператор", "Автоприглашение")
# The account methods (API_NOTES.md; not in the report documents, nor in tools/uis_fields.yaml): their parameters.
ACCOUNT_METHODS = {
    "get.customer_users": ("access_token", "limit", "offset", "filter", "fields", "sort"),
    "get.account": ("access_token", "user_id"),
}
CUSTOMER_USER_FIELDS = ("id", "login", "name", "description", "customer_id")
FILTER_OPERATORS = ("=", "!=", "in", "not_in")
# What every report of a default-sized account holds (`scale` and a client's `share` multiply it).
COUNTS = {
    "get.communications_report": 1500,
    "get.calls_report": 1200,
    "get.call_legs_report": 2400,
    "get.goals_report": 300,
    "get.chats_report": 150,
    "get.offline_messages_report": 250,
    "get.visitor_sessions_report": 600,
    "get.financial_call_legs_report": 2400,
    "get.sales_report": 300,
    "get.api_requests_report": 500,
}
# The primary key of the rows of each dated method (the key `expected` maps to a UTC instant).
ROW_KEY = {method: "id" for method in ID_BASE}
ROW_KEY.update({"get.financial_call_legs_report": "leg_id", "get.api_requests_report": "request_id"})


class UisError(Exception):
    def __init__(self, mnemonic: str, message: str | None = None, field: str | None = None, value: Any = None) -> None:
        super().__init__(mnemonic)
        self.mnemonic, self.field, self.value = mnemonic, field, value
        self.message = message or MESSAGES.get(mnemonic) or mnemonic.replace("_", " ").capitalize()


@dataclass
class Budget:
    minute_limit: int
    day_limit: int
    minute_seconds: float
    minute_used: int = 0
    day_used: int = 0
    minute_started: float = 0.0
    day_started: float = field(default_factory=time.monotonic)

    def _roll(self, now: float) -> None:
        if now - self.minute_started >= self.minute_seconds:
            self.minute_started, self.minute_used = now, 0

    def limits(self, now: float) -> dict[str, int]:
        self._roll(now)
        return {
            "day_limit": self.day_limit,
            "day_remaining": max(0, self.day_limit - self.day_used),
            "day_reset": max(0, int(86_400 - (now - self.day_started))),
            "minute_limit": self.minute_limit,
            "minute_remaining": max(0, self.minute_limit - self.minute_used),
            "minute_reset": max(1, int(self.minute_seconds - (now - self.minute_started) + 0.999)),
        }

    def spend(self, now: float) -> bool:
        """Count one request; False when a budget is used up (the request is refused)."""
        self._roll(now)
        if self.day_used >= self.day_limit or self.minute_used >= self.minute_limit:
            return False
        self.minute_used += 1
        self.day_used += 1
        return True


@dataclass
class UisClient:
    """The data of one account: what a client token reads, or an agent token with `user_id` set to
    this client's. `timelines`: method -> rows (UTC instants); `timezone`: the account's IANA zone,
    in which its report times are written and its date bounds read; the rest is what
    `get.customer_users` and `get.account` say of it. `forbidden`: access withdrawn, every client
    method answers `forbidden`."""

    timelines: dict[str, Timeline] = field(default_factory=dict)
    timezone: str = "UTC"
    financial_days: tuple[dt.date, dt.date] = (dt.date(2024, 1, 1), dt.date(2024, 4, 30))
    user_id: int | None = None
    login: str = ""
    name: str = ""
    description: str | None = None
    customer_id: int | None = None
    app_id: int = 0
    forbidden: bool = False
    visitor_offset: int = 0  # added to visitor ids, so that two clients' visitors differ when their ids must

    @property
    def zone(self) -> Zone:
        return zone_of(self.timezone)

    def customer_user(self) -> dict:
        return {
            "id": self.user_id,
            "login": self.login,
            "name": self.name,
            "description": self.description,
            "customer_id": self.customer_id,
        }


@dataclass
class UisAccount:
    access_token: str
    agent_user_ids: tuple[int, ...] = ()  # an agent account must name one of these in user_id
    token_state: str = "valid"  # "valid", "expired", "blocked"
    active: bool = True
    budget: Budget | None = None  # the token's one budget, whichever client a request names
    home: UisClient | None = None  # the data read without a client of its own (a client token's account)
    clients: dict[int, UisClient] = field(default_factory=dict)  # an agent's clients by user_id

    @property
    def is_partner(self) -> bool:
        return bool(self.agent_user_ids)


def _rpc_method(request: Request) -> str | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body.get("method") if isinstance(body, dict) else None


def _json(payload: Any) -> Response:
    return Response(200, orjson.dumps(payload))


def _fmt(moment: dt.datetime, zone: Zone = UTC) -> str:
    """A UTC instant as the account's wall-clock time, the way every report writes its datetimes."""
    return wall_clock(moment, zone, DATE_FORMAT)


def _h(name: str) -> int:
    return zlib.crc32(name.encode())


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass
class UisEmulator:
    accounts: list[UisAccount] = field(default_factory=list)
    home: UisClient = field(default_factory=UisClient)  # the default account's data (`timelines`, `financial_days`)
    ip_whitelisted: bool = True
    v3_implemented: bool = False
    visitors_report_available: bool = True
    disabled_methods: set = field(default_factory=set)  # -> method_component_disabled
    minute_limit: int = 1_000_000
    day_limit: int = 10_000_000
    minute_seconds: float = 60.0
    variation: Variation = field(default_factory=Variation.canonical)
    log: list[dict] = field(default_factory=list)  # every request body, parsed
    errors_sent: list[str] = field(default_factory=list)  # the mnemonic of every error answered

    faults: FaultPlan = field(default_factory=FaultPlan)  # the emulator's plan, once registered

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def timelines(self) -> dict[str, Timeline]:
        """The default account's reports: method -> rows."""
        return self.home.timelines

    @timelines.setter
    def timelines(self, value: dict[str, Timeline]) -> None:
        self.home.timelines = value

    @property
    def financial_days(self) -> tuple[dt.date, dt.date]:
        return self.home.financial_days

    @financial_days.setter
    def financial_days(self, value: tuple[dt.date, dt.date]) -> None:
        self.home.financial_days = value

    # ---- set-up -----------------------------------------------------------------------------
    def add_account(self, access_token: str, agent_user_ids: Iterable[int] = (), home: UisClient | None = None) -> UisAccount:
        """A token reading `home` (default: the default account's data); with `agent_user_ids`, an
        agent token whose clients without data of their own read it too."""
        account = UisAccount(access_token, tuple(agent_user_ids), home=home or self.home)
        self.accounts.append(account)
        return account

    def add_agent(self, access_token: str, clients: Iterable[UisClient]) -> UisAccount:
        """An agent (partner) token acting for `clients` (each with its own `user_id`, data and zone)."""
        by_id = {client.user_id: client for client in clients}
        account = UisAccount(access_token, tuple(by_id), clients=by_id)  # type: ignore[arg-type]
        self.accounts.append(account)
        return account

    def inject(
        self,
        mnemonic: str,
        times: int = 1,
        method: str | None = None,
        skip: int = 0,
        message: str | None = None,
        field: str | None = None,
        minute_reset: int | None = None,
    ) -> Fault:
        """Answer matching requests with this error, a rule of the emulator's fault plan: `times`
        requests (-1: forever), to `method` only if given, after letting `skip` through;
        `minute_reset` is reported in a limit_exceeded's metadata."""
        match = (lambda request: _rpc_method(request) == method) if method else None
        return self.faults.add(
            Fault(
                "uis",
                "error",
                times=times,
                skip=skip,
                match=match,
                error={"mnemonic": mnemonic, "message": message, "field": field, "minute_reset": minute_reset},
            )
        )

    def set_budget(
        self,
        access_token: str,
        minute_limit: int | None = None,
        day_limit: int | None = None,
        minute_seconds: float | None = None,
        day_used: int = 0,
    ) -> Budget:
        account = self._account(access_token)
        budget = self._budget(account)
        if minute_limit is not None:
            budget.minute_limit = minute_limit
        if day_limit is not None:
            budget.day_limit = day_limit
        if minute_seconds is not None:
            budget.minute_seconds = minute_seconds
        budget.day_used = day_used
        return budget

    # ---- what the emulator holds, for completeness assertions ---------------------------------
    # `user_id`: a client of an agent token (default: the default account). `since`/`until` of the
    # older helpers are UTC instants, both included; `expected` takes a half-open UTC range.
    def client(self, user_id: int | None = None) -> UisClient:
        """The data of the client `user_id` of any agent token (None: the default account)."""
        if user_id is None:
            return self.home
        for account in self.accounts:
            if user_id in account.clients:
                return account.clients[user_id]
        raise KeyError(f"no UIS client with user_id {user_id}")

    def time_zone(self, user_id: int | None = None) -> str:
        return self.client(user_id).timezone

    def expected(self, method: str, since_utc: Any = None, until_utc: Any = None, user_id: int | None = None) -> dict[int, str]:
        """The rows of `method` with since_utc <= time < until_utc (UTC instants: ISO strings, UTC unless
        they carry an offset, or aware datetimes; None: unbounded) as {primary key: the UTC instant of
        the row's main timestamp (`start_time`/`date_time`) as `2024-01-01T00:00:00Z`}. The key is
        `id`, or `leg_id` (financial call legs), or `request_id` (API requests)."""
        client = self.client(user_id)
        timeline = client.timelines[method]
        lo, hi = timeline.half_open_range(utc_bound(since_utc, "1970-01-01"), utc_bound(until_utc, "2100-01-01"))
        return {self._key(client, method, i): iso_z(timeline.time_of(i)) for i in range(lo, hi)}

    def ids(self, method: str, since: str = "1970-01-01", until: str = "2100-01-01", user_id: int | None = None) -> list[int]:
        """The `id`s of the rows with since <= time <= until (UTC, both included), in time order."""
        client = self.client(user_id)
        timeline = client.timelines[method]
        lo, hi = timeline.index_range(parse_utc(since), parse_utc(until))
        return [ID_BASE[method] + timeline.id_offset + i for i in range(lo, hi)]

    def rows(self, method: str, since: str = "1970-01-01", until: str = "2100-01-01", user_id: int | None = None) -> list[dict]:
        """Every field of the rows with since <= time <= until (UTC, both included), times in the account's zone."""
        client = self.client(user_id)
        lo, hi = client.timelines[method].index_range(parse_utc(since), parse_utc(until))
        return [self._row(client, method, i, client.zone) for i in range(lo, hi)]

    def row(self, method: str, index: int, user_id: int | None = None) -> dict:
        client = self.client(user_id)
        return self._row(client, method, index, client.zone)

    def chat_ids(self, since: str = "1970-01-01", until: str = "2100-01-01", user_id: int | None = None) -> list[int]:
        return self.ids("get.chats_report", since, until, user_id)

    def chat_messages(self, chat_id: int, user_id: int | None = None) -> list[dict]:
        client = self.client(user_id)
        return self._chat_messages(client, chat_id, client.zone)

    @staticmethod
    def messages_in_chat(index: int) -> int:
        return 1 + index % 4

    def visitor_ids(self, since: str = "1970-01-01", until: str = "2100-01-01", user_id: int | None = None) -> list[int]:
        client = self.client(user_id)
        lo, hi = client.timelines["get.visitor_sessions_report"].index_range(parse_utc(since), parse_utc(until))
        return sorted({self._visitor_id(client, i) for i in range(lo, hi)})

    def financial_dates(self, year: int, month: int, user_id: int | None = None) -> list[str]:
        first, last = self.client(user_id).financial_days
        days = calendar.monthrange(year, month)[1]
        return [d.isoformat() for d in (dt.date(year, month, n) for n in range(1, days + 1)) if first <= d <= last]

    def customer_users(self, access_token: str) -> list[dict]:
        """What `get.customer_users` holds for an agent token, in id order (every field)."""
        return self._customer_users(self._account(access_token))

    # ---- HTTP ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        version = request.path.strip("/")
        if request.method != "POST" or version not in ("v2.0", "v3.0"):
            return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            return Response.json(self._error_body(None, UisError("parse_error", "Parse error"), None))
        request_id = body.get("id") if isinstance(body, dict) else None
        with self._lock:
            self.log.append(body if isinstance(body, dict) else {"raw": body})
        account = None
        try:
            if (
                not isinstance(body, dict)
                or body.get("jsonrpc") != "2.0"
                or not isinstance(body.get("method"), str)
                or not isinstance(body.get("params", {}), dict)
            ):
                raise UisError("invalid_request", "Invalid Request")
            method, params = body["method"], body.get("params") or {}
            self._check_method(version, method)
            account = self._authenticate(params)
            client = self._client_of(account, method, params)
            self._check_budget(account, method)
            self._check_injected(request)
            if method in self.disabled_methods:
                raise UisError("method_component_disabled")
            if method in ACCOUNT_METHODS:
                rows, total = self._account_answer(method, params, account, client)
            else:
                rows, total = self._answer(method, params, client)
            # The documentation's example of get.sales_report calls it `meta_data`.
            metadata_key = "meta_data" if method == "get.sales_report" else "metadata"
            return _json(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "result": {"data": rows, metadata_key: {"total_items": total, **self._metadata(account, version)}},
                }
            )
        except UisError as error:
            with self._lock:
                self.errors_sent.append(error.mnemonic)
            return _json(self._error_body(request_id, error, account, version, body))

    # ---- checks -------------------------------------------------------------------------------
    def _check_method(self, version: str, method: str) -> None:
        if version == "v2.0":
            known = V2_METHODS | set(ACCOUNT_METHODS)
        else:
            known = V3_METHODS if self.v3_implemented else set()
        if method not in known or (method == "get.visitors_report" and not self.visitors_report_available):
            raise UisError("method_not_found", f"Method {method} not found")

    def _authenticate(self, params: dict) -> UisAccount:
        token = params.get("access_token")
        if token is None:
            raise UisError("required_parameter_missed", "Required parameter access_token is missed", "access_token")
        account = next((a for a in self.accounts if a.access_token == token), None)
        if account is None:
            raise UisError("access_token_invalid", field="access_token")
        if account.token_state != "valid":
            raise UisError(f"access_token_{account.token_state}", field="access_token")
        if not self.ip_whitelisted:
            raise UisError("ip_not_whitelisted")
        if not account.active:
            raise UisError("account_inactive")
        return account

    def _client_of(self, account: UisAccount, method: str, params: dict) -> UisClient | None:
        """Whose data a request reads. `get.customer_users` is a partner method ("available to: partner"):
        a client token may not call it, hence `forbidden` (the method exists: not `method_not_found`).
        Every other method is a client method: an agent names its client in `user_id` (`customer_id` in
        API v3.0), and a client whose access is withdrawn answers `forbidden`."""
        if method == "get.customer_users":
            if not account.is_partner:
                raise UisError("forbidden", "Access to the method is forbidden: get.customer_users is available to partners only")
            return None
        user_id = None
        if account.is_partner:
            name = "customer_id" if "customer_id" in params and "user_id" not in params else "user_id"
            user_id = params.get(name)
            if user_id is None:
                raise UisError("required_parameter_missed", "Required parameter user_id is missed", "user_id")
            if not isinstance(user_id, int) or isinstance(user_id, bool):
                raise UisError("data_type_error", f"Parameter {name} must be a number", name, user_id)
            if user_id not in account.agent_user_ids:
                raise UisError("invalid_parameter_value", "Invalid value of user_id", name, user_id)
            client = account.clients.get(user_id) or account.home
        else:
            client = account.home
        if client is None:
            raise UisError("invalid_parameter_value", "Invalid value of user_id", "user_id", user_id)
        if client.forbidden:
            raise UisError("forbidden", "Access to the data of this client is forbidden", "user_id", user_id)
        return client

    def _budget(self, account: UisAccount) -> Budget:
        if account.budget is None:
            account.budget = Budget(self.minute_limit, self.day_limit, self.minute_seconds)
        return account.budget

    def _check_budget(self, account: UisAccount, method: str) -> None:
        with self._lock:
            if not self._budget(account).spend(time.monotonic()):
                raise UisError("limit_exceeded")

    def _check_injected(self, request: Request) -> None:
        rule = self.faults.take("uis", request, kinds=("error",))
        if rule is not None:
            spec = rule.error or {}
            error = UisError(spec["mnemonic"], spec.get("message"), spec.get("field"))
            error.minute_reset = spec.get("minute_reset")  # type: ignore[attr-defined]
            raise error

    # ---- answers ------------------------------------------------------------------------------
    def _paging(self, params: dict, allowed: Iterable[str]) -> tuple[int, int]:
        unexpected = sorted(set(params) - set(allowed))
        if unexpected:
            raise UisError("unexpected_parameters", f"Unexpected parameters: {', '.join(unexpected)}", unexpected[0])
        limit = self._int_param(params, "limit", DEFAULT_LIMIT)
        offset = self._int_param(params, "offset", 0)
        if not 1 <= limit <= MAX_LIMIT:
            raise UisError("invalid_parameter_value", f"Parameter limit must be between 1 and {MAX_LIMIT}", "limit", limit)
        if not 0 <= offset <= MAX_OFFSET:
            raise UisError("invalid_parameter_value", f"Parameter offset must be between 0 and {MAX_OFFSET}", "offset", offset)
        return limit, offset

    def _answer(self, method: str, params: dict, client: UisClient) -> tuple[list[dict], int]:
        spec = TABLE[method]
        allowed = set(spec["request_params"])
        limit, offset = self._paging(params, allowed)
        fields_key = "fields" if "fields" in allowed else "field"
        fields = self._fields(spec, params.get(fields_key), fields_key)
        zone = client.zone
        if method in DATED_METHODS:
            since, until = self._interval(params, zone)
            timeline = client.timelines[method]
            lo, hi = timeline.index_range(since, until)
            total = hi - lo
            salt = f"{method}:{params['date_from']}"
            positions = self.variation.page_positions(total, offset, limit, salt)
            rows = [self._row(client, method, lo + p, zone) for p in positions]
        elif method == "get.chat_messages_report":
            chat_id = self._int_param(params, "chat_id", None, required=True)
            messages = self._chat_messages(client, chat_id, zone)
            total, rows = len(messages), messages[offset : offset + limit]
        elif method == "get.visitors_report":
            visitor_id = self._int_param(params, "visitor_id", None, required=True)
            visitors = self._visitor(client, visitor_id, zone)
            total, rows = len(visitors), visitors[offset : offset + limit]
        elif method == "get.financial_summary_report":
            year = self._int_param(params, "year", None, required=True)
            month = self._int_param(params, "month", None, required=True)
            if not 1 <= month <= 12:
                raise UisError("invalid_parameter_value", "Parameter month must be between 1 and 12", "month", month)
            first, last = client.financial_days
            days_in_month = (dt.date(year, month, n) for n in range(1, calendar.monthrange(year, month)[1] + 1))
            days = [self._financial_day(d.isoformat()) for d in days_in_month if first <= d <= last]
            total, rows = len(days), days[offset : offset + limit]
        else:  # the v3.0 methods, when implemented: no date parameters
            timeline = client.timelines[method]
            total = timeline.count
            positions = self.variation.page_positions(total, offset, limit, method)
            rows = [self._row(client, method, p, zone) for p in positions]
        return [self._as_sent(self._project(spec, row, fields), n) for n, row in enumerate(rows, offset)], total

    def _account_answer(self, method: str, params: dict, account: UisAccount, client: UisClient | None) -> tuple[list[dict], int]:
        if method == "get.account":
            unexpected = sorted(set(params) - set(ACCOUNT_METHODS[method]))
            if unexpected:
                raise UisError("unexpected_parameters", f"Unexpected parameters: {', '.join(unexpected)}", unexpected[0])
            assert client is not None
            return [{"app_id": client.app_id, "name": client.name, "timezone": client.timezone}], 1
        limit, offset = self._paging(params, ACCOUNT_METHODS[method])
        users = self._customer_users(account)
        users = _filtered(users, params.get("filter"))
        if params.get("sort") is not None:
            users = _sorted(users, params["sort"])
        else:  # no document gives the order: the seed's, from id order
            by_position = self.variation.ordered(range(len(users)), "customer_users")
            users = [users[p] for p in by_position]
        requested = params.get("fields")
        if requested is not None:
            if not isinstance(requested, list) or not all(isinstance(f, str) for f in requested):
                raise UisError("data_type_error", "Parameter fields must be an array of strings", "fields", requested)
            unknown = [f for f in requested if f not in CUSTOMER_USER_FIELDS]
            if unknown:
                raise UisError("invalid_parameter_value", f"Unknown field {unknown[0]}", "fields", unknown[0])
        names = requested or list(CUSTOMER_USER_FIELDS)
        return [{name: user[name] for name in names} for user in users[offset : offset + limit]], len(users)

    @staticmethod
    def _customer_users(account: UisAccount) -> list[dict]:
        users = []
        for user_id in sorted(account.agent_user_ids):
            client = account.clients.get(user_id)
            users.append(
                client.customer_user()
                if client
                else {
                    "id": user_id,
                    "login": f"client{user_id}",
                    "name": f"Client {user_id}",
                    "description": None,
                    "customer_id": user_id,
                }
            )
        return users

    def _as_sent(self, row: dict, n: int) -> dict:
        """A row as this server sends it: optional fields present, null or left out, and extra ones."""
        variation = self.variation
        row = variation.optional(row, KEY_LIKE, n + _h(str(row.get("id"))))
        return variation.with_extras(row, n)

    def shortened(self, response: Response) -> Response:
        """The same answer with its first row left out and `total_items` unchanged (the `short` fault):
        the next offset then starts one row early, as when a row moves out of a page being read."""
        body = orjson.loads(response.body)
        rows = (body.get("result") or {}).get("data") if isinstance(body, dict) else None
        if rows:
            rows.pop(0)
        return _json(body)

    @staticmethod
    def _int_param(params: dict, name: str, default: int | None, required: bool = False) -> int:
        if name not in params:
            if required:
                raise UisError("required_parameter_missed", f"Required parameter {name} is missed", name)
            return default  # type: ignore[return-value]
        value = params[name]
        if not isinstance(value, int) or isinstance(value, bool):
            raise UisError("data_type_error", f"Parameter {name} must be a number", name, value)
        return value

    @staticmethod
    def _fields(spec: dict, requested: Any, key: str) -> list[str] | None:
        if requested is None:
            return None
        if not isinstance(requested, list) or not all(isinstance(f, str) for f in requested):
            raise UisError("data_type_error", f"Parameter {key} must be an array of strings", key, requested)
        known = {f["name"] for f in spec["fields"] if not f.get("example_only")}
        unknown = [f for f in requested if f not in known]
        if unknown:
            raise UisError("invalid_parameter_value", f"Unknown field {unknown[0]}", key, unknown[0])
        return requested

    def _interval(self, params: dict, zone: Zone) -> tuple[dt.datetime, dt.datetime]:
        """`date_from`/`date_till` as wall-clock times of the account's zone, both included; the limits
        (3 months, 90 days) are on the wall-clock values. Returns UTC instants."""
        moments = []
        for name in ("date_from", "date_till"):
            if name not in params:
                raise UisError("required_parameter_missed", f"Required parameter {name} is missed", name)
            try:
                moments.append(dt.datetime.strptime(params[name], DATE_FORMAT))
            except (TypeError, ValueError) as error:
                raise UisError(
                    "invalid_parameter_value", f"Parameter {name} must be YYYY-MM-DD hh:mm:ss", name, params[name]
                ) from error
        since, until = moments
        if until < since:
            raise UisError("invalid_parameters_combination", "date_till is earlier than date_from", "date_till")
        if until > add_months(since, 3) or until - since > dt.timedelta(days=90):
            raise UisError(
                "date_interval_limit_reached",
                "The period between date_from and date_till is longer than 3 months",
                "date_till",
                params["date_till"],
            )
        repeated = self.variation.uis_repeated_hour
        return instant_of(since, zone, repeated), instant_of(until, zone, repeated)

    @staticmethod
    def _project(spec: dict, row: dict, fields: list[str] | None) -> dict:
        if fields is None:
            fields = [f["name"] for f in spec["fields"] if f.get("default") and not f.get("example_only")]
        return {name: row.get(name) for name in fields}

    # ---- rows ---------------------------------------------------------------------------------
    def _row(self, client: UisClient, method: str, index: int, zone: Zone) -> dict:
        """Every documented field of row `index` of `method` (deterministic), its datetimes in `zone`.
        The fields that are not keys repeat with a period of TEMPLATES rows, so a row is a copy of a
        cached template plus its keys and times: cheap enough to serve pages of 10000 rows quickly.
        The row's other top-level datetimes (`finish_time`, `sale_date`, ...) follow its own time."""
        timeline = client.timelines[method]
        n = index + timeline.id_offset
        moment = timeline.time_of(index)
        k = n % TEMPLATES
        row = dict(_template(method, k, zone))
        cursor = CURSOR_FIELD.get(method)
        if cursor:
            row[cursor] = _fmt(moment, zone)
        for name, salt in _relative_times(method):
            if row.get(name) is not None:
                row[name] = _fmt(moment + dt.timedelta(seconds=(k + salt) % 3600), zone)
        if method in ID_BASE:
            row["id"] = ID_BASE[method] + n
        if method == "get.visitor_sessions_report":
            row["visitor_id"] = self._visitor_id(client, index)
        elif method == "get.call_legs_report":
            row["call_session_id"] = ID_BASE["get.calls_report"] + n // 3
        elif method == "get.financial_call_legs_report":
            row.pop("id", None)
            row["leg_id"] = ID_BASE["get.call_legs_report"] + n
            row["call_session_id"] = ID_BASE["get.calls_report"] + n // 3
        elif method == "get.api_requests_report":
            row["request_id"] = n
        return row

    def _key(self, client: UisClient, method: str, index: int) -> int:
        n = index + client.timelines[method].id_offset
        if method == "get.financial_call_legs_report":
            return ID_BASE["get.call_legs_report"] + n
        if method == "get.api_requests_report":
            return n
        return ID_BASE[method] + n

    @staticmethod
    def _visitor_id(client: UisClient, index: int) -> int:
        timeline = client.timelines["get.visitor_sessions_report"]
        visitors = max(1, timeline.count // SESSIONS_PER_VISITOR)
        return VISITOR_BASE + client.visitor_offset + (index + timeline.id_offset) % visitors

    @staticmethod
    def _visitor(client: UisClient, visitor_id: int, zone: Zone) -> list[dict]:
        timeline = client.timelines["get.visitor_sessions_report"]
        visitors = max(1, timeline.count // SESSIONS_PER_VISITOR)
        number = visitor_id - VISITOR_BASE - client.visitor_offset
        if not 0 <= number < visitors:
            return []
        first_index = (number - timeline.id_offset) % visitors  # sessions of this visitor: every `visitors`-th
        last_index = first_index + (timeline.count - 1 - first_index) // visitors * visitors
        spec = TABLE["get.visitors_report"]
        row = {f["name"]: _value(f, number, None, zone) for f in spec["fields"] if not f.get("example_only")}
        row.update(
            id=visitor_id,
            first_visit=_fmt(timeline.time_of(first_index), zone),
            last_visit=_fmt(timeline.time_of(last_index), zone),
        )
        return [row]

    def _chat_messages(self, client: UisClient, chat_id: int, zone: Zone) -> list[dict]:
        timeline = client.timelines["get.chats_report"]
        index = chat_id - ID_BASE["get.chats_report"] - timeline.id_offset
        if not 0 <= index < timeline.count:
            return []
        return [self._chat_message(client, index, k, zone) for k in range(self.messages_in_chat(index))]

    @staticmethod
    def _chat_message(client: UisClient, index: int, k: int, zone: Zone) -> dict:
        timeline = client.timelines["get.chats_report"]
        n = index + timeline.id_offset
        spec = TABLE["get.chat_messages_report"]
        row = {f["name"]: _value(f, n * 10 + k, timeline.time_of(index), zone) for f in spec["fields"]}
        row.update(
            chat_id=ID_BASE["get.chats_report"] + n,
            date_time=_fmt(timeline.time_of(index) + dt.timedelta(seconds=30 * k), zone),
            text=f"message {k + 1} of chat {ID_BASE['get.chats_report'] + n}",
            source=CHAT_SOURCES[k % 2] if k else CHAT_SOURCES[n % 3],
        )
        return row

    def _financial_day(self, day: str) -> dict:
        n = dt.date.fromisoformat(day).toordinal()
        row = {f["name"]: _value(f, n, None, UTC) for f in TABLE["get.financial_summary_report"]["fields"]}
        row["date"] = day
        return row

    # ---- responses ----------------------------------------------------------------------------
    def _metadata(self, account: UisAccount | None, version: str = "v2.0") -> dict:
        metadata: dict[str, Any] = {
            "api_version": {"current_version": version[1:], "latest_version": "2.0", "current_version_deprecated": False},
        }
        if account is not None:
            with self._lock:
                metadata["limits"] = self._budget(account).limits(time.monotonic())
        return metadata

    def _error_body(
        self, request_id: Any, error: UisError, account: UisAccount | None, version: str = "v2.0", body: Any = None
    ) -> dict:
        metadata = self._metadata(account, version)
        minute_reset = getattr(error, "minute_reset", None)
        if error.mnemonic == "limit_exceeded" and minute_reset is not None and "limits" in metadata:
            metadata["limits"]["minute_reset"] = minute_reset
        params = dict((body or {}).get("params") or {}) if isinstance(body, dict) else {}
        params.pop("access_token", None)
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": ERROR_CODES.get(error.mnemonic, -32602),
                "message": error.message,
                "data": {
                    "mnemonic": error.mnemonic,
                    "field": error.field,
                    "value": error.value,
                    "params": params,
                    "metadata": metadata,
                },
            },
        }

    def _account(self, access_token: str) -> UisAccount:
        return next(a for a in self.accounts if a.access_token == access_token)


# ---- values -----------------------------------------------------------------------------------
KEY_LIKE = (
    "id",
    "date",
    "date_time",
    "start_time",
    "chat_id",
    "leg_id",
    "call_session_id",
    "visitor_id",
    "request_id",
    "method",
    "ip_address",
    "source",
    "text",
)
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=UTC)
_COMPILED: dict[int, Any] = {}
TEMPLATES = 101
_TEMPLATES: dict[tuple[str, int, str], dict] = {}
_RELATIVE: dict[str, list[tuple[str, int]]] = {}
DATE_FORMAT_NAME = "YYYY-MM-DD hh:mm:ss"  # how tools/uis_fields.yaml names the datetime form


def _template(method: str, k: int, zone: Zone = UTC) -> dict:
    """Template row `k` of `method`, its nested datetimes in `zone` (one cache per zone)."""
    key = (method, k, str(zone))
    row = _TEMPLATES.get(key)
    if row is None:
        moment = _EPOCH + dt.timedelta(hours=k)
        row = {f["name"]: _value(f, k, moment, zone) for f in TABLE[method]["fields"] if not f.get("example_only")}
        _TEMPLATES[key] = row
    return row


def _relative_times(method: str) -> list[tuple[str, int]]:
    """The top-level datetime fields of `method` other than its main time, with their salts: each is
    written a few minutes after the row's own time (a call finishes after it starts)."""
    found = _RELATIVE.get(method)
    if found is None:
        cursor = CURSOR_FIELD.get(method)
        found = _RELATIVE[method] = [
            (f["name"], _h(f["name"]))
            for f in TABLE[method]["fields"]
            if f.get("format") == DATE_FORMAT_NAME and f["name"] != cursor and not f.get("example_only")
        ]
    return found


def _value(spec: dict, n: int, moment: dt.datetime | None, zone: Zone = UTC) -> Any:
    """A deterministic value of the documented type; some optional fields are null, as in real data."""
    make = _COMPILED.get(id(spec))
    if make is None:
        make = _COMPILED[id(spec)] = _compile(spec)
    return make(n, moment, zone)


def _compile(spec: dict):
    """A function (n, moment, zone) -> value for one field, with everything that does not depend on n worked
    out once. Datetimes are UTC instants written as wall-clock times of `zone`."""
    name, kind = spec["name"], spec["type"]
    salt = _h(name)
    nullable = name not in KEY_LIKE

    def maybe_null(make):
        if not nullable:
            return make
        return lambda n, moment, z: None if (n + salt) % 9 == 0 else make(n, moment, z)

    if kind == "array":
        items = spec.get("items")
        if isinstance(items, list):
            subs = [(sub["name"], _compile(sub)) for sub in items]
            return maybe_null(lambda n, m, z: [{k: f(n * 3 + j, m, z) for k, f in subs} for j in range((n + salt) % 3)])
        enum = (items or {}).get("enum")
        if enum:
            return maybe_null(lambda n, m, z: [enum[(n + j) % len(enum)] for j in range((n + salt) % 3)])
        stem = name[:-1]
        return maybe_null(lambda n, m, z: [f"{stem}-{n}-{j}" for j in range((n + salt) % 3)])
    if kind == "object":
        subs = [(sub["name"], _compile(sub)) for sub in spec.get("properties", [])]
        return maybe_null(lambda n, m, z: {k: f(n, m, z) for k, f in subs})
    if spec.get("enum"):
        enum = spec["enum"]
        return maybe_null(lambda n, m, z: enum[(n + salt) % len(enum)])
    if spec.get("format") == "YYYY-MM-DD":
        return maybe_null(lambda n, m, z: wall_clock(m or _EPOCH, z, "%Y-%m-%d"))
    if spec.get("format"):
        return maybe_null(lambda n, m, z: _fmt((m or _EPOCH) + dt.timedelta(seconds=(n + salt) % 3600), z))
    if kind == "integer":
        if name.endswith("phone_number"):
            return maybe_null(lambda n, m, z: 74950000000 + (n + salt) % 10_000_000)
        if name.endswith("_id"):
            return maybe_null(lambda n, m, z: 100 + (n + salt) % 5000)
        return maybe_null(lambda n, m, z: (n * 7 + salt) % 600)
    if kind == "number":
        return maybe_null(lambda n, m, z: round(((n * 37 + salt) % 100_000) / 100, 2))
    if kind == "boolean":
        return maybe_null(lambda n, m, z: (n + salt) % 2 == 0)
    return maybe_null(lambda n, m, z: f"{name} {(n + salt) % 997}")


# ---- get.customer_users: filter and sort ---------------------------------------------------------
def _filtered(users: list[dict], spec: Any) -> list[dict]:
    """`filter` as the Data API writes it: `{"field", "operator", "value"}`, or `{"filters": [...],
    "condition": "and"|"or"}` of those. Operators: =, !=, in, not_in."""
    if spec is None:
        return users
    if not isinstance(spec, dict):
        raise UisError("data_type_error", "Parameter filter must be an object", "filter", spec)
    return [user for user in users if _matches(user, spec)]


def _matches(user: dict, spec: dict) -> bool:
    if "filters" in spec:
        parts = spec["filters"]
        condition = spec.get("condition", "and")
        if not isinstance(parts, list) or condition not in ("and", "or"):
            raise UisError("invalid_parameter_value", "Invalid filter", "filter", spec)
        results = [_matches(user, part) for part in parts]
        return all(results) if condition == "and" else any(results)
    name, operator, value = spec.get("field"), spec.get("operator"), spec.get("value")
    if name not in CUSTOMER_USER_FIELDS:
        raise UisError("filter_prohibited", f"Filtering by {name} is prohibited", "filter", name)
    if operator not in FILTER_OPERATORS:
        raise UisError("invalid_parameter_value", f"Unknown filter operator {operator}", "filter", operator)
    if operator in ("in", "not_in") and not isinstance(value, list):
        raise UisError("data_type_error", f"The value of the operator {operator} must be an array", "filter", value)
    found = user.get(name)
    if operator == "=":
        return found == value
    if operator == "!=":
        return found != value
    return (found in value) == (operator == "in")


def _sorted(users: list[dict], spec: Any) -> list[dict]:
    """`sort`: `[{"field", "order": "asc"|"desc"}]`, the first the most significant."""
    if not isinstance(spec, list) or not all(isinstance(s, dict) for s in spec):
        raise UisError("data_type_error", "Parameter sort must be an array of objects", "sort", spec)
    ordered = list(users)
    for item in reversed(spec):  # a stable sort per key, least significant first
        name, order = item.get("field"), item.get("order", "asc")
        if name not in CUSTOMER_USER_FIELDS:
            raise UisError("sort_prohibited", f"Sorting by {name} is prohibited", "sort", name)
        if order not in ("asc", "desc"):
            raise UisError("invalid_parameter_value", f"Unknown sort order {order}", "sort", order)
        ordered.sort(
            key=lambda user: (user[name] is None, user[name] if user[name] is not None else 0),  # noqa: B023
            reverse=order == "desc",
        )
    return ordered


# ---- accounts ------------------------------------------------------------------------------------
def report_timelines(
    start: str, end: str, scale: float = 1.0, share: float = 1.0, id_offset: int = 0, edges: Iterable[str] = ()
) -> dict[str, Timeline]:
    """Every report of one account: COUNTS rows (times `scale` and `share`) spread from `start` to `end`
    (UTC), ids from `id_offset`, and one more row at each of `edges` (UTC instants) when given."""
    edges = list(edges)
    timelines: dict[str, Timeline] = {}
    for method, count in COUNTS.items():
        base = spread(max(1, int(count * scale * share)), start, end, id_offset)
        timelines[method] = with_edges(base, edges) if edges else base  # type: ignore[assignment]
    return timelines


def make_client(
    user_id: int,
    login: str,
    name: str,
    timezone: str,
    start: str,
    end: str,
    share: float = 1.0,
    scale: float = 1.0,
    forbidden: bool = False,
    description: str | None = None,
    customer_id: int | None = None,
    app_id: int | None = None,
    id_offset: int = 0,
    visitor_offset: int = 0,
    edges: Iterable[str] = (),
) -> UisClient:
    """A client of an agent: its own reports (`report_timelines`), zone and user."""
    return UisClient(
        timelines=report_timelines(start, end, scale, share, id_offset, edges),
        timezone=timezone,
        financial_days=(parse_utc(start).date(), parse_utc(end).date()),
        user_id=user_id,
        login=login,
        name=name,
        description=description,
        customer_id=customer_id if customer_id is not None else user_id + 7_000,
        app_id=app_id if app_id is not None else user_id + 90_000,
        forbidden=forbidden,
        visitor_offset=visitor_offset,
    )


def default_uis(
    access_token: str,
    start: str = "2024-01-01",
    end: str = "2024-04-30T23:59:59",
    scale: float = 1.0,
    expired_token: str | None = None,
    blocked_token: str | None = None,
    variation: Variation | None = None,
) -> UisEmulator:
    """A client account with a few hundred to a couple of thousand rows per report, in the zone the
    seed chose among real customers' zones (canonical: Europe/Moscow)."""
    variation = variation or Variation.canonical()
    emulator = UisEmulator(variation=variation)
    emulator.home = UisClient(
        timelines=report_timelines(start, end, scale),
        timezone=variation.uis_time_zone,
        financial_days=(parse_utc(start).date(), parse_utc(end).date()),
        name="Default account",
        app_id=91_000,
    )
    emulator.add_account(access_token)
    for token, state in ((expired_token, "expired"), (blocked_token, "blocked")):
        if token:
            emulator.add_account(token).token_state = state
    return emulator

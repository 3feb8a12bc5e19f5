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
per-token minute and day request budget counted down in `metadata.limits`. The two API v3.0
methods answer `method_not_found` unless `v3_implemented` is set. Errors of its own on demand:
`inject(mnemonic, ...)`, a rule of the emulator's one fault plan.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import orjson
import yaml

from testkit.emulator.faults import Fault, FaultPlan
from testkit.emulator.server import Request, Response
from testkit.emulator.timeline import UTC, Timeline, parse_utc, spread
from testkit.emulator.variation import Variation

TABLE_PATH = Path(__file__).resolve().parents[2] / "tools" / "uis_fields.yaml"
TABLE: Dict[str, Dict[str, Any]] = yaml.safe_load(TABLE_PATH.read_text(encoding="utf-8"))

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


class UisError(Exception):
    def __init__(self, mnemonic: str, message: Optional[str] = None, field: Optional[str] = None, value: Any = None) -> None:
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

    def limits(self, now: float) -> Dict[str, int]:
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
class UisAccount:
    access_token: str
    agent_user_ids: Tuple[int, ...] = ()  # an agent account must name one of these in user_id
    token_state: str = "valid"  # "valid", "expired", "blocked"
    active: bool = True
    budget: Optional[Budget] = None


def _rpc_method(request: Request) -> Optional[str]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body.get("method") if isinstance(body, dict) else None


def _json(payload: Any) -> Response:
    return Response(200, orjson.dumps(payload))


def _fmt(moment: dt.datetime) -> str:
    return moment.strftime(DATE_FORMAT)


def _h(name: str) -> int:
    return zlib.crc32(name.encode())


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass
class UisEmulator:
    accounts: List[UisAccount] = field(default_factory=list)
    timelines: Dict[str, Timeline] = field(default_factory=dict)  # method -> rows
    financial_days: Tuple[dt.date, dt.date] = (dt.date(2024, 1, 1), dt.date(2024, 4, 30))
    ip_whitelisted: bool = True
    v3_implemented: bool = False
    visitors_report_available: bool = True
    disabled_methods: set = field(default_factory=set)  # -> method_component_disabled
    minute_limit: int = 1_000_000
    day_limit: int = 10_000_000
    minute_seconds: float = 60.0
    variation: Variation = field(default_factory=Variation.canonical)
    log: List[dict] = field(default_factory=list)  # every request body, parsed
    errors_sent: List[str] = field(default_factory=list)  # the mnemonic of every error answered

    faults: FaultPlan = field(default_factory=FaultPlan)  # the emulator's plan, once registered

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    # ---- set-up -----------------------------------------------------------------------------
    def add_account(self, access_token: str, agent_user_ids: Iterable[int] = ()) -> UisAccount:
        account = UisAccount(access_token, tuple(agent_user_ids))
        self.accounts.append(account)
        return account

    def inject(self, mnemonic: str, times: int = 1, method: Optional[str] = None, skip: int = 0,
               message: Optional[str] = None, field: Optional[str] = None, minute_reset: Optional[int] = None) -> Fault:
        """Answer matching requests with this error, a rule of the emulator's fault plan: `times`
        requests (-1: forever), to `method` only if given, after letting `skip` through;
        `minute_reset` is reported in a limit_exceeded's metadata."""
        match = (lambda request: _rpc_method(request) == method) if method else None
        return self.faults.add(Fault("uis", "error", times=times, skip=skip, match=match,
                                     error={"mnemonic": mnemonic, "message": message, "field": field, "minute_reset": minute_reset}))

    def set_budget(self, access_token: str, minute_limit: Optional[int] = None, day_limit: Optional[int] = None,
                   minute_seconds: Optional[float] = None, day_used: int = 0) -> Budget:
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
    def ids(self, method: str, since: str = "1970-01-01", until: str = "2100-01-01") -> List[int]:
        timeline = self.timelines[method]
        lo, hi = timeline.index_range(parse_utc(since), parse_utc(until))
        return [ID_BASE[method] + timeline.id_offset + i for i in range(lo, hi)]

    def rows(self, method: str, since: str = "1970-01-01", until: str = "2100-01-01") -> List[dict]:
        timeline = self.timelines[method]
        lo, hi = timeline.index_range(parse_utc(since), parse_utc(until))
        return [self.row(method, i) for i in range(lo, hi)]

    def chat_ids(self, since: str = "1970-01-01", until: str = "2100-01-01") -> List[int]:
        return self.ids("get.chats_report", since, until)

    def chat_messages(self, chat_id: int) -> List[dict]:
        timeline = self.timelines["get.chats_report"]
        index = chat_id - ID_BASE["get.chats_report"] - timeline.id_offset
        if not 0 <= index < timeline.count:
            return []
        return [self._chat_message(index, k) for k in range(self.messages_in_chat(index))]

    @staticmethod
    def messages_in_chat(index: int) -> int:
        return 1 + index % 4

    def visitor_ids(self, since: str = "1970-01-01", until: str = "2100-01-01") -> List[int]:
        timeline = self.timelines["get.visitor_sessions_report"]
        lo, hi = timeline.index_range(parse_utc(since), parse_utc(until))
        return sorted({self._visitor_id(i) for i in range(lo, hi)})

    def financial_dates(self, year: int, month: int) -> List[str]:
        first, last = self.financial_days
        days = calendar.monthrange(year, month)[1]
        return [d.isoformat() for d in (dt.date(year, month, n) for n in range(1, days + 1)) if first <= d <= last]

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
            if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or not isinstance(body.get("method"), str) \
                    or not isinstance(body.get("params", {}), dict):
                raise UisError("invalid_request", "Invalid Request")
            method, params = body["method"], body.get("params") or {}
            self._check_method(version, method)
            account = self._authenticate(params)
            self._check_budget(account, method)
            self._check_injected(request)
            if method in self.disabled_methods:
                raise UisError("method_component_disabled")
            rows, total = self._answer(method, params)
            # The documentation's example of get.sales_report calls it `meta_data`.
            metadata_key = "meta_data" if method == "get.sales_report" else "metadata"
            return _json({
                "jsonrpc": "2.0",
                "id": request_id,
                "result": {"data": rows, metadata_key: {"total_items": total, **self._metadata(account, version)}},
            })
        except UisError as error:
            with self._lock:
                self.errors_sent.append(error.mnemonic)
            return _json(self._error_body(request_id, error, account, version, body))

    # ---- checks -------------------------------------------------------------------------------
    def _check_method(self, version: str, method: str) -> None:
        known = V2_METHODS if version == "v2.0" else (V3_METHODS if self.v3_implemented else set())
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
        if account.agent_user_ids:
            user_id = params.get("user_id", params.get("customer_id"))
            if user_id is None:
                raise UisError("required_parameter_missed", "Required parameter user_id is missed", "user_id")
            if user_id not in account.agent_user_ids:
                raise UisError("invalid_parameter_value", "Invalid value of user_id", "user_id", user_id)
        return account

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
    def _answer(self, method: str, params: dict) -> Tuple[List[dict], int]:
        spec = TABLE[method]
        allowed = set(spec["request_params"])
        unexpected = sorted(set(params) - allowed)
        if unexpected:
            raise UisError("unexpected_parameters", f"Unexpected parameters: {', '.join(unexpected)}", unexpected[0])
        limit = self._int_param(params, "limit", DEFAULT_LIMIT)
        offset = self._int_param(params, "offset", 0)
        if not 1 <= limit <= MAX_LIMIT:
            raise UisError("invalid_parameter_value", f"Parameter limit must be between 1 and {MAX_LIMIT}", "limit", limit)
        if not 0 <= offset <= MAX_OFFSET:
            raise UisError("invalid_parameter_value", f"Parameter offset must be between 0 and {MAX_OFFSET}", "offset", offset)
        fields_key = "fields" if "fields" in allowed else "field"
        fields = self._fields(spec, params.get(fields_key), fields_key)
        if method in DATED_METHODS:
            since, until = self._interval(params)
            timeline = self.timelines[method]
            lo, hi = timeline.index_range(since, until)
            total = hi - lo
            salt = f"{method}:{params['date_from']}"
            rows = [self.row(method, lo + p) for p in self.variation.page_positions(total, offset, limit, salt)]
        elif method == "get.chat_messages_report":
            chat_id = self._int_param(params, "chat_id", None, required=True)
            messages = self.chat_messages(chat_id)
            total, rows = len(messages), messages[offset: offset + limit]
        elif method == "get.visitors_report":
            visitor_id = self._int_param(params, "visitor_id", None, required=True)
            visitors = self._visitor(visitor_id)
            total, rows = len(visitors), visitors[offset: offset + limit]
        elif method == "get.financial_summary_report":
            year = self._int_param(params, "year", None, required=True)
            month = self._int_param(params, "month", None, required=True)
            if not 1 <= month <= 12:
                raise UisError("invalid_parameter_value", "Parameter month must be between 1 and 12", "month", month)
            days = [self._financial_day(d) for d in self.financial_dates(year, month)]
            total, rows = len(days), days[offset: offset + limit]
        else:  # the v3.0 methods, when implemented: no date parameters
            timeline = self.timelines[method]
            total = timeline.count
            rows = [self.row(method, p) for p in self.variation.page_positions(total, offset, limit, method)]
        return [self._as_sent(self._project(spec, row, fields), n) for n, row in enumerate(rows, offset)], total

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
    def _int_param(params: dict, name: str, default: Optional[int], required: bool = False) -> int:
        if name not in params:
            if required:
                raise UisError("required_parameter_missed", f"Required parameter {name} is missed", name)
            return default  # type: ignore[return-value]
        value = params[name]
        if not isinstance(value, int) or isinstance(value, bool):
            raise UisError("data_type_error", f"Parameter {name} must be a number", name, value)
        return value

    @staticmethod
    def _fields(spec: dict, requested: Any, key: str) -> Optional[List[str]]:
        if requested is None:
            return None
        if not isinstance(requested, list) or not all(isinstance(f, str) for f in requested):
            raise UisError("data_type_error", f"Parameter {key} must be an array of strings", key, requested)
        known = {f["name"] for f in spec["fields"] if not f.get("example_only")}
        unknown = [f for f in requested if f not in known]
        if unknown:
            raise UisError("invalid_parameter_value", f"Unknown field {unknown[0]}", key, unknown[0])
        return requested

    @staticmethod
    def _interval(params: dict) -> Tuple[dt.datetime, dt.datetime]:
        moments = []
        for name in ("date_from", "date_till"):
            if name not in params:
                raise UisError("required_parameter_missed", f"Required parameter {name} is missed", name)
            try:
                moments.append(dt.datetime.strptime(params[name], DATE_FORMAT).replace(tzinfo=UTC))
            except (TypeError, ValueError):
                raise UisError("invalid_parameter_value", f"Parameter {name} must be YYYY-MM-DD hh:mm:ss", name, params[name])
        since, until = moments
        if until < since:
            raise UisError("invalid_parameters_combination", "date_till is earlier than date_from", "date_till")
        if until > add_months(since, 3) or until - since > dt.timedelta(days=90):
            raise UisError("date_interval_limit_reached", "The period between date_from and date_till is longer than 3 months",
                           "date_till", params["date_till"])
        return since, until

    @staticmethod
    def _project(spec: dict, row: dict, fields: Optional[List[str]]) -> dict:
        if fields is None:
            fields = [f["name"] for f in spec["fields"] if f.get("default") and not f.get("example_only")]
        return {name: row.get(name) for name in fields}

    # ---- rows ---------------------------------------------------------------------------------
    def row(self, method: str, index: int) -> dict:
        """Every documented field of row `index` of `method` (deterministic). The fields that are
        not keys repeat with a period of TEMPLATES rows, so a row is a copy of a cached template
        plus its keys: cheap enough to serve pages of 10000 rows quickly."""
        timeline = self.timelines[method]
        n = index + timeline.id_offset
        moment = timeline.time_of(index)
        row = dict(_template(method, n % TEMPLATES))
        cursor = CURSOR_FIELD.get(method)
        if cursor:
            row[cursor] = _fmt(moment)
        if method in ID_BASE:
            row["id"] = ID_BASE[method] + n
        if method == "get.visitor_sessions_report":
            row["visitor_id"] = self._visitor_id(index)
        elif method == "get.call_legs_report":
            row["call_session_id"] = ID_BASE["get.calls_report"] + n // 3
        elif method == "get.financial_call_legs_report":
            row.pop("id", None)
            row["leg_id"] = ID_BASE["get.call_legs_report"] + n
            row["call_session_id"] = ID_BASE["get.calls_report"] + n // 3
        elif method == "get.api_requests_report":
            row["request_id"] = n
        return row

    def _visitor_id(self, index: int) -> int:
        timeline = self.timelines["get.visitor_sessions_report"]
        visitors = max(1, timeline.count // SESSIONS_PER_VISITOR)
        return VISITOR_BASE + (index + timeline.id_offset) % visitors

    def _visitor(self, visitor_id: int) -> List[dict]:
        timeline = self.timelines["get.visitor_sessions_report"]
        visitors = max(1, timeline.count // SESSIONS_PER_VISITOR)
        number = visitor_id - VISITOR_BASE
        if not 0 <= number < visitors:
            return []
        first_index = (number - timeline.id_offset) % visitors  # sessions of this visitor: every `visitors`-th
        last_index = first_index + (timeline.count - 1 - first_index) // visitors * visitors
        spec = TABLE["get.visitors_report"]
        row = {f["name"]: _value(f, number, None) for f in spec["fields"] if not f.get("example_only")}
        row.update(id=visitor_id, first_visit=_fmt(timeline.time_of(first_index)), last_visit=_fmt(timeline.time_of(last_index)))
        return [row]

    def _chat_message(self, index: int, k: int) -> dict:
        timeline = self.timelines["get.chats_report"]
        n = index + timeline.id_offset
        spec = TABLE["get.chat_messages_report"]
        row = {f["name"]: _value(f, n * 10 + k, timeline.time_of(index)) for f in spec["fields"]}
        row.update(
            chat_id=ID_BASE["get.chats_report"] + n,
            date_time=_fmt(timeline.time_of(index) + dt.timedelta(seconds=30 * k)),
            text=f"message {k + 1} of chat {ID_BASE['get.chats_report'] + n}",
            source=CHAT_SOURCES[k % 2] if k else CHAT_SOURCES[n % 3],
        )
        return row

    def _financial_day(self, day: str) -> dict:
        n = dt.date.fromisoformat(day).toordinal()
        row = {f["name"]: _value(f, n, None) for f in TABLE["get.financial_summary_report"]["fields"]}
        row["date"] = day
        return row

    # ---- responses ----------------------------------------------------------------------------
    def _metadata(self, account: Optional[UisAccount], version: str = "v2.0") -> dict:
        metadata: Dict[str, Any] = {
            "api_version": {"current_version": version[1:], "latest_version": "2.0", "current_version_deprecated": False},
        }
        if account is not None:
            with self._lock:
                metadata["limits"] = self._budget(account).limits(time.monotonic())
        return metadata

    def _error_body(self, request_id: Any, error: UisError, account: Optional[UisAccount], version: str = "v2.0",
                    body: Any = None) -> dict:
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
                "data": {"mnemonic": error.mnemonic, "field": error.field, "value": error.value, "params": params,
                         "metadata": metadata},
            },
        }

    def _account(self, access_token: str) -> UisAccount:
        return next(a for a in self.accounts if a.access_token == access_token)


# ---- values -----------------------------------------------------------------------------------
KEY_LIKE = ("id", "date", "date_time", "start_time", "chat_id", "leg_id", "call_session_id", "visitor_id", "request_id",
            "method", "ip_address", "source", "text")
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=UTC)
_COMPILED: Dict[int, Any] = {}
TEMPLATES = 101
_TEMPLATES: Dict[Tuple[str, int], dict] = {}


def _template(method: str, k: int) -> dict:
    row = _TEMPLATES.get((method, k))
    if row is None:
        moment = _EPOCH + dt.timedelta(hours=k)
        row = {f["name"]: _value(f, k, moment) for f in TABLE[method]["fields"] if not f.get("example_only")}
        _TEMPLATES[(method, k)] = row
    return row


def _value(spec: dict, n: int, moment: Optional[dt.datetime]) -> Any:
    """A deterministic value of the documented type; some optional fields are null, as in real data."""
    make = _COMPILED.get(id(spec))
    if make is None:
        make = _COMPILED[id(spec)] = _compile(spec)
    return make(n, moment)


def _compile(spec: dict):
    """A function (n, moment) -> value for one field, with everything that does not depend on n worked out once."""
    name, kind = spec["name"], spec["type"]
    salt = _h(name)
    nullable = name not in KEY_LIKE

    def maybe_null(make):
        if not nullable:
            return make
        return lambda n, moment: None if (n + salt) % 9 == 0 else make(n, moment)

    if kind == "array":
        items = spec.get("items")
        if isinstance(items, list):
            subs = [(sub["name"], _compile(sub)) for sub in items]
            return maybe_null(lambda n, m: [{k: f(n * 3 + j, m) for k, f in subs} for j in range((n + salt) % 3)])
        enum = (items or {}).get("enum")
        if enum:
            return maybe_null(lambda n, m: [enum[(n + j) % len(enum)] for j in range((n + salt) % 3)])
        stem = name[:-1]
        return maybe_null(lambda n, m: [f"{stem}-{n}-{j}" for j in range((n + salt) % 3)])
    if kind == "object":
        subs = [(sub["name"], _compile(sub)) for sub in spec.get("properties", [])]
        return maybe_null(lambda n, m: {k: f(n, m) for k, f in subs})
    if spec.get("enum"):
        enum = spec["enum"]
        return maybe_null(lambda n, m: enum[(n + salt) % len(enum)])
    if spec.get("format") == "YYYY-MM-DD":
        return maybe_null(lambda n, m: (m or _EPOCH).strftime("%Y-%m-%d"))
    if spec.get("format"):
        return maybe_null(lambda n, m: _fmt((m or _EPOCH) + dt.timedelta(seconds=(n + salt) % 3600)))
    if kind == "integer":
        if name.endswith("phone_number"):
            return maybe_null(lambda n, m: 74950000000 + (n + salt) % 10_000_000)
        if name.endswith("_id"):
            return maybe_null(lambda n, m: 100 + (n + salt) % 5000)
        return maybe_null(lambda n, m: (n * 7 + salt) % 600)
    if kind == "number":
        return maybe_null(lambda n, m: round(((n * 37 + salt) % 100_000) / 100, 2))
    if kind == "boolean":
        return maybe_null(lambda n, m: (n + salt) % 2 == 0)
    return maybe_null(lambda n, m: f"{name} {(n + salt) % 997}")


def default_uis(access_token: str, start: str = "2024-01-01", end: str = "2024-04-30T23:59:59", scale: float = 1.0,
                expired_token: Optional[str] = None, blocked_token: Optional[str] = None,
                variation: Optional[Variation] = None) -> UisEmulator:
    """A client account with a few hundred to a couple of thousand rows per report."""
    counts = {
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
    emulator = UisEmulator(variation=variation or Variation.canonical())
    emulator.add_account(access_token)
    for token, state in ((expired_token, "expired"), (blocked_token, "blocked")):
        if token:
            emulator.add_account(token).token_state = state
    for method, count in counts.items():
        emulator.timelines[method] = spread(max(1, int(count * scale)), start, end)
    emulator.financial_days = (parse_utc(start).date(), parse_utc(end).date())
    return emulator

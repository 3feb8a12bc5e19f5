"""Emulator of the CallKeeper REST API (api.callkeeper.ru), as the vendor's document "Использование
HTTPS REST API CallKeeper" (doc 003) describes it.

`GET /callkeeper/{method}?api_key=...&date[from]=...&date[to]=...[&time_zone=...][&statuses=...]`.
Read methods: getCallsInfo, getCallsCompleted, getCallsByStatus, getCallInfo, getUserInfo and
getT2C (whose key is `apiak`). Errors are `{"status":"fail","reason":"..."}` (or the same object in a
one-element array, as published clients read them) with the document's HTTP codes, 710 included.

Strict where the document is specific: `date[from]`/`date[to]` only in the forms its examples show
-- `2017-05-01`, `2005-08-15T23:59:59`, `2005-08-16T24:00:00` -- read as wall-clock times in
`time_zone`, an IANA name (anything else answers 406 "Wrong data type!"); a call's `date` is UTC.

Varied where it is silent (see variation.py): the container of the read answers
(`{"status":"success","result":[...]}`, what published clients read; a bare array; an object keyed
by call id, as a PHP service keyed by id sends it; `{"result": {id: call}}`; an empty one is `[]`, as
PHP encodes an empty array), the container of `getUserInfo`, the form of `date`, whether `date[to]`
includes its own second, which of the two moments a wall-clock time repeated by a daylight-saving
change means, the order of the calls, numbers as text (the document's own sample sends `"id":"123456"`),
optional fields null or left out, and undocumented extra fields. A bound without `time_zone` is read
in the server's zone (Europe/Moscow); a bare `date` means all time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from testkit.emulator.server import Request, Response
from testkit.emulator.timeline import UTC, Timeline, iso_z, spread, utc_bound
from testkit.emulator.variation import Variation

SERVER_TIME_ZONE = "Europe/Moscow"
READ_METHODS = ("getCallsInfo", "getCallsCompleted", "getCallsByStatus", "getCallInfo", "getUserInfo", "getT2C")
WRITE_METHODS = ("makeCalls", "orderCall", "createWidget", "deleteWidget", "tag", "getDoc")

# The document's error texts with their HTTP codes.
ERRORS: dict[str, tuple[int, str]] = {
    "no_apiak": (400, "Key 'apiak' is not defined!"),
    "host": (401, "Unauthorized host!"),
    "key": (403, "Not the correct key api"),
    "mismatched": (404, "Mismatched request!"),
    "method": (405, "Unknown request method!"),
    "type": (406, "Wrong data type!"),
    "date_not_array": (406, "Date is not array"),
    "not_enough": (409, "Not enough values"),
    "user": (412, "Unknown user"),
    "key_format": (417, "Apiak or Hash shorter or longer then was required or not hexadecimal"),
    "widget": (710, "The widget is disabled"),
}

# Status pairs the calls cycle through: mostly successful, some of every kind, and one pair the
# document's table does not list (999/0) so that decoding an unknown pair is exercised.
STATUS_PAIRS: tuple[tuple[int, int], ...] = (
    (200, 200),
    (200, 200),
    (200, 200),
    (200, 487),
    (200, 486),
    (200, 200),
    (487, 0),
    (200, 0),
    (200, 480),
    (200, 200),
    (486, 0),
    (701, 0),
    (200, 200),
    (811, 0),
    (200, 603),
    (1, 0),
    (200, 200),
    (2, 0),
    (200, 404),
    (999, 0),
)
IN_PROGRESS = {(1, 0), (2, 0)}  # not "completed": ringing now, or scheduled


def _fmt(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


DATE_FORMS = {  # the form of a call's `date`, in UTC (the document shows none)
    "space": "%Y-%m-%d %H:%M:%S",
    "t": "%Y-%m-%dT%H:%M:%S",
    "offset": "%Y-%m-%dT%H:%M:%S+00:00",
}
NUMBER_FIELDS = (
    "id",
    "status_code",
    "status2_code",
    "duration_sec",
    "duration_min",
    "duration2_sec",
    "duration2_min",
    "attempt",
    "a_type",
    "playback_tick",
    "asr_attempts",
)
CALL_KEYS = ("id", "date", "status_code", "status2_code")  # never left out


def status_pair(index: int, timeline: Timeline) -> tuple[int, int]:
    return STATUS_PAIRS[(index + timeline.id_offset) % len(STATUS_PAIRS)]


def call_record(index: int, timeline: Timeline, numbers_as_strings: bool = False) -> dict:
    """A call with every field seed 003 lists."""
    n = index + timeline.id_offset
    first, second = status_pair(index, timeline)
    talked = (n * 13) % 400 if (first, second) == (200, 200) else 0
    duration = talked + 10 + n % 30
    record = {
        "id": 300_000 + n,
        "visit_info": {
            "current": {
                "utm_source": "yandex" if n % 2 else "google",
                "utm_medium": "cpc",
                "utm_campaign": f"campaign-{n % 7}",
                "utm_content": "ad",
                "utm_term": "звонок",
                "typ": "utm",
            },
            "current_add": {
                "fd": _fmt(timeline.time_of(index) - dt.timedelta(minutes=5)),
                "ep": "https://example.ru/",
                "rf": "yandex.ru",
            },
            "first": {"utm_source": "google", "utm_medium": "organic", "typ": "organic"},
            "first_add": {"fd": _fmt(timeline.time_of(index) - dt.timedelta(days=3)), "ep": "https://example.ru/catalog"},
        },
        "session": {"pgs": n % 9 + 1, "cpg": f"https://example.ru/page/{n % 20}"},
        "udata": {"vst": n % 5 + 1, "uag": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
        "status_code": first,
        "status_reason": "OK" if first == 200 else "Busy Here",
        "status2_code": second,
        "status2_reason": "OK" if second == 200 else ("" if second == 0 else "Request Terminated"),
        "ip": f"10.1.{n % 256}.{(n // 256) % 256}",
        "country": "RU",
        "city": "Москва" if n % 3 else "Санкт-Петербург",
        "region": "Москва" if n % 3 else "Санкт-Петербург",
        "district": "Центральный федеральный округ" if n % 3 else "Северо-Западный федеральный округ",
        "site": f"site{n % 4}.ru",
        "ga_clientid": f"{1526128712 + n}.1513128077",
        "phone1": f"7495{n % 10_000_000:07d}" + ("^12" if n % 6 == 0 else ""),
        "phone2": f"7999{n % 10_000_000:07d}",
        "widget_hash": f"{(n % 3) + 0x96D6EC6937C878C2CA1F889B9B9E865A:032x}",
        "date": _fmt(timeline.time_of(index)),
        "duration_sec": duration,
        "duration_min": (duration + 59) // 60,
        "duration2_sec": talked,
        "duration2_min": (talked + 59) // 60,
        "record_url": f"https://api.callkeeper.ru/record/{300_000 + n}.mp3" if talked else "",
        "attempt": 1 + n % 3,
        "a_type": n % 6,
        "playback_tick": n % 4,
        "tags": " " if n % 4 else "горячий,повторный",
        "asr_attempts": n % 3,
    }
    if numbers_as_strings:  # as a PHP API that does not cast may send them
        for key in NUMBER_FIELDS:
            record[key] = str(record[key])
    return record


def t2c_record(index: int, timeline: Timeline) -> dict:
    """A Tap2Call event. The document lists no fields: these are plausible ones around `id` and `date`."""
    n = index + timeline.id_offset
    return {
        "id": 900_000 + n,
        "date": _fmt(timeline.time_of(index)),
        "widget_hash": f"{(n % 3) + 0x96D6EC6937C878C2CA1F889B9B9E865A:032x}",
        "phone": f"7999{n % 10_000_000:07d}",
        "site": f"site{n % 4}.ru",
        "page": f"https://example.ru/page/{n % 20}",
        "device": "mobile",
    }


@dataclass
class CallkeeperAccount:
    api_key: str
    calls: Timeline
    tap2calls: Timeline
    user: dict


@dataclass
class CallkeeperEmulator:
    accounts: list[CallkeeperAccount] = field(default_factory=list)
    variation: Variation = field(default_factory=Variation.canonical)
    error_shape: str = "object"  # "object" | "array" (the error object in a one-element array)
    host_allowed: bool = True  # False: every request answers 401 Unauthorized host!
    widget_disabled: bool = False  # True: every request answers 710
    unknown_user_keys: set[str] = field(default_factory=set)  # well-formed keys that answer 412
    forced_error: str | None = None  # a key of ERRORS answered to every request

    def add_account(self, api_key: str, calls: Timeline, tap2calls: Timeline, user: dict) -> CallkeeperAccount:
        account = CallkeeperAccount(api_key, calls, tap2calls, user)
        self.accounts.append(account)
        return account

    # ---- what the emulator holds, for completeness assertions -------------------------------
    @staticmethod
    def indices(timeline: Timeline, since: str, until: str) -> range:
        from testkit.emulator.timeline import parse_utc

        lo, hi = timeline.index_range(parse_utc(since), parse_utc(until))
        return range(lo, hi)

    def account_of(self, api_key: str | None = None) -> CallkeeperAccount:
        """The account of `api_key` (default: the first account)."""
        if api_key is None:
            return self.accounts[0]
        account = next((a for a in self.accounts if a.api_key == api_key), None)
        if account is None:
            raise KeyError("no CallKeeper account with that key")
        return account

    def call_ids(
        self, method: str, since: str, until: str, statuses: Iterable[str] = (), api_key: str | None = None
    ) -> list[int]:
        """The ids `method` holds with since <= `date` <= until (UTC instants, both included), in time order."""
        account = self.account_of(api_key)
        if method == "getT2C":
            return [900_000 + i + account.tap2calls.id_offset for i in self.indices(account.tap2calls, since, until)]
        wanted = _pairs(",".join(statuses))
        return [
            300_000 + i + account.calls.id_offset
            for i in self.indices(account.calls, since, until)
            if self._selected(method, status_pair(i, account.calls), wanted)
        ]

    def expected(self, api_key: str, method: str, since=None, until=None, statuses: Iterable[str] = ()) -> dict[int, str]:
        """What `method` (getCallsInfo, getCallsCompleted, getCallsByStatus with `statuses`, getT2C) holds for
        the account of `api_key` with since <= `date` < until (UTC instants: ISO strings, UTC unless they
        carry an offset, or aware datetimes; None: unbounded), as {id: the UTC instant of `date` as
        `2024-01-01T00:00:00Z`}. The ids are numbers (the server may send them as text: variation.py)."""
        account = self.account_of(api_key)
        since_at, until_at = utc_bound(since, "1970-01-01"), utc_bound(until, "2100-01-01")
        if method == "getT2C":
            timeline = account.tap2calls
            lo, hi = timeline.half_open_range(since_at, until_at)
            return {900_000 + i + timeline.id_offset: iso_z(timeline.time_of(i)) for i in range(lo, hi)}
        wanted = _pairs(",".join(statuses))
        timeline = account.calls
        lo, hi = timeline.half_open_range(since_at, until_at)
        return {
            300_000 + i + timeline.id_offset: iso_z(timeline.time_of(i))
            for i in range(lo, hi)
            if self._selected(method, status_pair(i, timeline), wanted)
        }

    # ---- HTTP ------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        method = request.path.strip("/")
        params = {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        if request.method == "POST" and request.body:
            params.update({k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()})
        if not method:
            return self._error("mismatched")
        if method not in READ_METHODS + WRITE_METHODS:
            return self._error("method")
        if method in WRITE_METHODS:
            return self._error("mismatched")  # not emulated: a source never writes
        if self.forced_error:
            return self._error(self.forced_error)
        key_param = "apiak" if method == "getT2C" else "api_key"
        key = params.get(key_param)
        if key is None:
            return self._error("no_apiak" if key_param == "apiak" else "key")
        if not re.fullmatch(r"[0-9a-fA-F]{32}", key):
            return self._error("key_format")
        if not self.host_allowed:
            return self._error("host")
        if key in self.unknown_user_keys:
            return self._error("user")
        account = next((a for a in self.accounts if a.api_key == key), None)
        if account is None:
            return self._error("key")
        if self.widget_disabled:
            return self._error("widget")
        if method == "getUserInfo":
            return self._user(account)
        if method == "getCallInfo":
            return self._call_info(account, params)
        window = self._window(params)
        if isinstance(window, Response):
            return window
        since, until = window
        if method == "getT2C":
            lo, hi = account.tap2calls.index_range(since, until)
            return self._list([self._as_sent(t2c_record(i, account.tap2calls), i) for i in self._ordered(lo, hi, method)])
        wanted = _pairs(params.get("statuses", ""))
        if method == "getCallsByStatus" and not wanted:
            return self._error("not_enough")
        lo, hi = account.calls.index_range(since, until)
        records = [
            self.call(i, account.calls)
            for i in self._ordered(lo, hi, method)
            if self._selected(method, status_pair(i, account.calls), wanted)
        ]
        return self._list(records)

    def call(self, index: int, timeline: Timeline) -> dict:
        """Call `index` exactly as this server sends it."""
        return self._as_sent(call_record(index, timeline, self.variation.numbers_as_strings), index)

    def _as_sent(self, record: dict, n: int) -> dict:
        variation = self.variation
        if variation.callkeeper_date_form != "space":
            moment = dt.datetime.strptime(record["date"], "%Y-%m-%d %H:%M:%S")
            record["date"] = moment.strftime(DATE_FORMS[variation.callkeeper_date_form])
        record = variation.optional(record, CALL_KEYS, n)
        return variation.with_extras(record, n)

    def _ordered(self, lo: int, hi: int, salt: str) -> list[int]:
        return [lo + p for p in self.variation.page_positions(hi - lo, 0, hi - lo, f"{salt}:{lo}")]

    @staticmethod
    def _selected(method: str, pair: tuple[int, int], wanted: set[tuple[int, int]]) -> bool:
        if method == "getCallsCompleted":
            return pair not in IN_PROGRESS
        if method == "getCallsByStatus":
            return pair in wanted
        return True

    def _window(self, params: dict[str, str]):
        zone_name = params.get("time_zone") or SERVER_TIME_ZONE
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            return self._error("type")
        if "date[from]" in params or "date[to]" in params:
            variation = self.variation
            since = (
                _moment(params["date[from]"], zone, variation.callkeeper_repeated_hour)
                if params.get("date[from]")
                else dt.datetime(1970, 1, 1, tzinfo=UTC)
            )
            until = (
                _moment(params["date[to]"], zone, variation.callkeeper_repeated_hour)
                if params.get("date[to]")
                else dt.datetime(2100, 1, 1, tzinfo=UTC)
            )
            if since is None or until is None:
                return self._error("type")
            if variation.callkeeper_to_bound == "exclusive":
                until -= dt.timedelta(seconds=1)  # the calls before `to`, not at it
            return since, until
        if "date" in params:
            if params["date"]:
                return self._error("date_not_array")
            return dt.datetime(1970, 1, 1, tzinfo=UTC), dt.datetime(2100, 1, 1, tzinfo=UTC)
        return self._error("not_enough")

    def _list(self, records: list[dict]) -> Response:
        container = self.variation.callkeeper_container
        keyed = {str(r["id"]): r for r in records} or []  # PHP encodes an empty array as []
        if container == "array":
            return Response.json(records)
        if container == "keyed":
            return Response.json(keyed)
        if container == "result_keyed":
            return Response.json({"status": "success", "result": keyed})
        return Response.json({"status": "success", "result": records})

    def _user(self, account: CallkeeperAccount) -> Response:
        container = self.variation.callkeeper_user_container
        if container == "object":
            return Response.json(account.user)
        if container == "result":
            return Response.json({"status": "success", "result": account.user})
        return Response.json([account.user])

    def _call_info(self, account: CallkeeperAccount, params: dict[str, str]) -> Response:
        call_id = params.get("id_call", "")
        index = int(call_id) - 300_000 - account.calls.id_offset if call_id.isdigit() else -1
        if not 0 <= index < account.calls.count:
            return self._error("not_enough")
        return Response.json({"status": "success", "result": self.call(index, account.calls)})

    def _error(self, name: str) -> Response:
        status, reason = ERRORS[name]
        body = {"status": "fail", "reason": reason}
        return Response.json([body] if self.error_shape == "array" else body, status=status)


def _pairs(statuses: str) -> set[tuple[int, int]]:
    out = set()
    for item in statuses.split(","):
        first, _, second = item.strip().partition("/")
        if first.isdigit() and second.isdigit():
            out.add((int(first), int(second)))
    return out


# The forms of `date[from]`/`date[to]` the document's examples show: a day, or a W3C date-time
# without an offset (`T24:00:00` included).
BOUND_FORMS = re.compile(r"\d{4}-\d{2}-\d{2}(T(\d{2}:\d{2}:\d{2}))?")


def _moment(value: str, zone: ZoneInfo, repeated_hour: int = 0) -> dt.datetime | None:
    """A bound in a documented form, read as a wall-clock time in `zone`; None for any other form.
    `T24:00:00` is the next midnight; a time a daylight-saving change repeats is read as the first
    (`repeated_hour` 0) or the second (1) of its two moments."""
    match = BOUND_FORMS.fullmatch(value)
    if match is None:
        return None
    next_day = value.endswith("T24:00:00")
    text = value.replace("T24:00:00", "T00:00:00")
    try:
        parsed = dt.datetime.fromisoformat(text).replace(tzinfo=zone, fold=repeated_hour)
    except ValueError:
        return None
    moment = parsed.astimezone(UTC)
    return moment + dt.timedelta(days=1) if next_day else moment


DEFAULT_USER = {
    "id": 41_205,
    "email": "owner@example.ru",
    "name": "Example LLC",
    "paid_till": "2027-01-01T00:00:00+03:00",
    "balance": 1520,
    "time_zone": "Europe/Moscow",
    "widgets": 3,
}


def default_callkeeper(
    api_key: str,
    calls: int = 1500,
    tap2calls: int = 300,
    start: str = "2024-01-01",
    end: str = "2024-04-30T23:59:59",
    variation: Variation | None = None,
) -> CallkeeperEmulator:
    emulator = CallkeeperEmulator(variation=variation or Variation.canonical())
    emulator.add_account(api_key, spread(calls, start, end), spread(tap2calls, start, end, id_offset=0), dict(DEFAULT_USER))
    return emulator

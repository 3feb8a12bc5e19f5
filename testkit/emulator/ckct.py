"""Emulator of the CallKeeper call-tracking API (ckct.ru), as its two documents describe it: "Метод
получения звонков пользователя" (doc 000) and "API коллтрекинг (выгрузка звонков)" (doc 001).

`GET /ckct/api/?{format}/{version}/{key}/{entity}/{method}/{page}/{from}/{to}` (also via
`index.php?`). Errors come with HTTP 200 in `inbound.error`. Pages are numbered from 0.

Strict where the documents are specific: format `json` only (doc 001: "only json is available"),
version `v3`, a key of 16 letters and digits, entity `call`, methods `get`/`getByRole`/
`getWithRole`, a decimal page, and `from`/`to` as a unix timestamp or `Y-m-d` -- anything else
gets the documented error text.

Varied where they are silent (see variation.py): the page length (1 to 1000), where the page
counters are (`inbound`, `info`, both or none), the envelope or a bare array, doc 000's or doc
001's record shape (or both mixed), what comes past the last page without counters, the order
of a window's calls, optional fields left out (doc 001: "no parameter takes the value NULL") or
null (doc 000's sample: `record: null`), `cbOfficeNumber` as the sample's "0" or as a number, and
undocumented extra fields.

Zones. Doc 001 gives `callTime` ("date and time of the call") beside `localDate` ("date and time in the
client's time zone") and `timezoneOffset` ("the time zone's offset", STRING; its sample is "+0020" for a
`localDate` two hours after `callTime`). So `callTime` (and doc 000's `timeStart`, `cbOrderDate`) is the
account's server-side zone, set per account (`CkctAccount.server_zone`: UTC for the default account, as it
always rendered), `localDate` the same moment in the account's client zone, and `timezoneOffset` one of
the forms the seed picks (`ckct_timezone_offset_form`). `from`/`to` as unix timestamps are instants; as
`Y-m-d` they are days of the server zone (`to` up to its last second).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from testkit.emulator.server import Request, Response
from testkit.emulator.timeline import UTC, Timeline, Zone, instant_of, iso_z, parse_utc, spread, utc_bound, wall_clock, zone_of
from testkit.emulator.variation import Variation

INFO = {
    "entities": {"call": ["get"], "callrole": ["get"], "phone": ["get"], "user": ["get"], "campaign": ["get"], "tag": ["get"]},
    "types": ["json", "plain", "csv", "xml"],
    "versions": ["v3"],
}
ERRORS = {
    "no_rows": "No rows found",
    "type": "Type to return is not available",
    "version": "It is wrong API version",
    "user": "User is not recognized",
    "entity": "Entity does not exist",
    "method": "Method does not exist",
    "page": "Incorrect page is set",
    "start": "Start date has wrong type. Possible format is 'Y-m-d' or timestamp",
}
SERVICE_TYPES = ("calltracking", "callback", "import")
EVENT_SOURCES = ("widget", "mobile", "api", "lg", "iform", "form", "ckapp", "hand", "fb", "vk", "ok")


def _fmt(moment: dt.datetime, zone: Zone = UTC) -> str:
    return wall_clock(moment, zone)


def _hhmm(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def timezone_offset(moment: dt.datetime, server: Zone, client: Zone, form: str = "utc") -> str:
    """`timezoneOffset` of a call at `moment`, in one of the forms doc 001 leaves open (variation.py):
    "utc" the client zone's offset from UTC ("+0500"), "server" its offset from the server zone
    ("+0200"), "sample" that difference written as the document's sample writes two hours ("+0020")."""
    client_offset = moment.astimezone(client).utcoffset() or dt.timedelta(0)
    if form == "utc":
        return _hhmm(client_offset)
    difference = client_offset - (moment.astimezone(server).utcoffset() or dt.timedelta(0))
    if form == "server":
        return _hhmm(difference)
    tenths = round(difference.total_seconds() / 360)  # hours times ten
    return f"{'-' if tenths < 0 else '+'}{abs(tenths):04d}"


MOSCOW = zone_of("Europe/Moscow")


def new_shape_call(index: int, timeline: Timeline, server: Zone = UTC, client: Zone = MOSCOW, offset_form: str = "utc") -> dict:
    """A call as doc 001 documents it, with every field; `callTime` in the server zone, `localDate` in the client's."""
    n = index + timeline.id_offset
    moment = timeline.time_of(index)
    service = SERVICE_TYPES[n % 3]
    ok = n % 4 != 0
    return {
        "universalId": str(70_000_000_000_000_000 + n),
        "serviceType": service,
        "clientNumber": f"7999{n % 10_000_000:07d}",
        "managerNumber": f"7888{n % 1000:07d}",
        "callerIdToManager": f"7999{n % 10_000_000:07d}",
        "callerIdToClient": "74950000000",
        "statusFirst": 200,
        "statusSecond": 200 if ok else 486,
        "status": "success" if ok else "fail",
        "callTime": _fmt(moment, server),
        "localDate": _fmt(moment, client),
        "timezoneOffset": timezone_offset(moment, server, client, offset_form),
        "duration": (n * 7) % 600 if ok else 0,
        "tariffTime": ((n * 7) % 600 + 59) // 60 if ok else 0,
        "site": f"site{n % 5}.ru",
        "recordUrl": f"https://callkeeper.ru/record/{n}.mp3" if ok else "",
        "unique": n % 2 == 0,
        "target": n % 3 != 0,
        "uniqueTarget": n % 6 == 0,
        "siteVisit": f"site{n % 5}.ru",
        "visitSite": f"site{n % 5}.ru",
        "referrer": "yandex.ru" if n % 2 else "google.com",
        "utm_source": "yandex" if n % 2 else "google",
        "utm_medium": "cpc",
        "utm_campaign": f"campaign-{n % 7}",
        "utm_content": "ad",
        "utm_term": "звонок",
        "yaClid": str(534543523543 + n),
        "gaClid": f"{345345353 + n}.234234234",
        "roistatClid": str(323423423 + n),
        "calltouchClid": str(234234234 + n),
        "comagicClid": str(34223234 + n),
        "city": "Москва",
        "region": "Москва",
        "country": "Россия",
        "ipAddress": f"10.0.{n % 256}.{(n // 256) % 256}",
        "pagesCount": n % 9,
        "entryPoint": "https://callkeeper.ru/blog",
        "entryPointQuery": "https://callkeeper.ru/call-tracking/?utm_source=yandex",
        "callPage": "https://callkeeper.ru/contacts",
        "counts": n % 13,
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
        "device": "desktop" if n % 2 else "iphone 7",
        "cbWidgetHash": f"{n:032x}" if service == "callback" else "",
        "cbToolId": 1000 + n % 10 if service == "callback" else 0,
        "cbCallId": 10_000_000 + n if service == "callback" else 0,
        "cbUid": 1000,
        "cbToolName": "Виджет обратного звонка" if service == "callback" else "",
        "cbOfficeNumber": "0",
        "cbOfficeName": "Moscow office" if service == "callback" else "",
        "cbOrderDate": _fmt(moment, server) if service == "callback" else "",
        "cbAttempt": 1 + n % 3 if service == "callback" else 0,
        "cbAttemptsQueue": [10_000_000 + n - 1] if service == "callback" and n % 3 else [],
        "cbConnectType": ("auto", "smartcall", "dtmf")[n % 3] if service == "callback" else "",
        "cbSmartCallCount": n % 5,
        "cbIvrCount": n % 4,
        "cbEventSource": EVENT_SOURCES[n % len(EVENT_SOURCES)] if service == "callback" else "",
        "ctCallId": 100_000 + n if service == "calltracking" else 0,
        "ctCampaignId": 1000 + n % 4 if service == "calltracking" else 0,
        "ctCampaignName": "sale" if service == "calltracking" else "",
        "ctIsListened": ("", "0", "1")[n % 3],
        "tags": ["some tag", "any tag"] if n % 5 == 0 else [],
        "hooks": (
            [
                {
                    "hookEventName": "AFTER_CALL_FINISH",
                    "hookAddress": "https://server.ru/path",
                    "hookMethod": "POST",
                    "hookResponseStatus": 200,
                }
            ]
            if n % 4 == 1
            else []
        ),
    }


def old_shape_call(index: int, timeline: Timeline, server: Zone = UTC) -> dict:
    """A call as doc 000 documents it, with every field; `timeStart` in the server zone."""
    n = index + timeline.id_offset
    moment = timeline.time_of(index)
    return {
        "city": "-",
        "site": f"site{n % 5}.ru",
        "state": "200/200" if n % 4 else "720/200",
        "callId": 1_000_000 + n,
        "device": "-",
        "record": f"https://ckct.ru/record/{n}.mp3" if n % 4 else None,
        "region": "-",
        "tagsId": [n % 10] if n % 3 == 0 else [],
        "utmTerm": "-",
        "audition": "Не прослушано",
        "callType": "Динамический коллтрекинг",
        "clientIp": "-",
        "duration": (n * 7) % 600,
        "timeStart": _fmt(moment, server),
        "utmMedium": "-",
        "utmSource": "-",
        "campaignId": 559,
        "officeName": "Тестовый",
        "routePhone": "79999999999",
        "sourceType": "-",
        "utmContent": "-",
        "clientPhone": f"7999{n % 10_000_000:07d}",
        "officePhone": "79999999999",
        "utmCampaign": "-",
        "campaignName": "Тест",
        "stateDescription": "Успешный звонок" if n % 4 else "Неизвестная ошибка оператора связи",
    }


NEW_KEYS = ("universalId", "callTime")  # never left out: the call's id and time
OLD_KEYS = ("callId",)
KEY_PATTERN = re.compile(r"[0-9A-Za-z]{16}")  # doc 001: "a letter-and-digit sequence 16 characters long"


@dataclass
class CkctAccount:
    user_key: str
    role_key: str
    own: Timeline
    by_role: Timeline
    server_zone: str = "UTC"  # the zone of `callTime`/`timeStart` and of `Y-m-d` bounds
    client_zone: str = "Europe/Moscow"  # the zone of `localDate`

    def timelines(self, method: str) -> list[Timeline]:
        return {"get": [self.own], "getByRole": [self.by_role], "getWithRole": [self.own, self.by_role]}[method]


class WindowCalls:
    """The calls of one window as (timeline, index), in the order this server sends them; found by
    arithmetic, so that a window of a million calls costs nothing until a page of it is served."""

    def __init__(self, ranges: list[tuple[Timeline, int, int]], variation: Variation, salt: str) -> None:
        self._ranges = [(t, lo, hi) for t, lo, hi in ranges if hi > lo]
        self._size = sum(hi - lo for _, lo, hi in self._ranges)
        self._variation = variation
        self._salt = salt

    def __len__(self) -> int:
        return self._size

    def page(self, first: int, length: int) -> list[tuple[Timeline, int]]:
        return [self._at(p) for p in self._variation.page_positions(self._size, first, length, self._salt)]

    def _at(self, position: int) -> tuple[Timeline, int]:
        for timeline, lo, hi in self._ranges:
            if position < hi - lo:
                return timeline, lo + position
            position -= hi - lo
        raise IndexError(position)


@dataclass
class CkctEmulator:
    accounts: list[CkctAccount] = field(default_factory=list)
    variation: Variation = field(default_factory=Variation.canonical)
    disabled_methods: set = field(default_factory=set)  # answer "Method does not exist" for these
    forced_error: str | None = None  # answer every request with this `inbound.error`

    def add_account(
        self,
        user_key: str,
        role_key: str,
        own: Timeline,
        by_role: Timeline,
        server_zone: str = "UTC",
        client_zone: str = "Europe/Moscow",
    ) -> CkctAccount:
        account = CkctAccount(user_key, role_key, own, by_role, server_zone, client_zone)
        self.accounts.append(account)
        return account

    # ---- what the emulator holds, for completeness assertions -------------------------------
    def call_ids(self, timeline: Timeline, since: str, until: str) -> list[str]:
        """The ids of the calls of `timeline` with since <= time <= until (UTC instants, both included)."""
        lo, hi = timeline.index_range(parse_utc(since), parse_utc(until))
        return [self._record_id(i, timeline) for i in range(lo, hi)]

    def account_of(self, api_key: str) -> CkctAccount:
        """The account of a user key or a role key."""
        account = next((a for a in self.accounts if api_key in (a.user_key, a.role_key)), None)
        if account is None:
            raise KeyError("no ckct account with that key")
        return account

    def expected(self, api_key: str, method: str = "get", since=None, until=None) -> dict[str, str]:
        """The calls `method` ("get", "getByRole", "getWithRole") answers for the account of `api_key`
        (its user key or role key) with since <= time < until (UTC instants: ISO strings, UTC unless they
        carry an offset, or aware datetimes; None: unbounded), as {id (`universalId` or `callId`, as sent):
        the UTC instant of `callTime`/`timeStart` as `2024-01-01T00:00:00Z`}."""
        account = self.account_of(api_key)
        since_at, until_at = utc_bound(since, "1970-01-01"), utc_bound(until, "2100-01-01")
        found: dict[str, str] = {}
        for timeline in account.timelines(method):
            lo, hi = timeline.half_open_range(since_at, until_at)
            found.update({self._record_id(i, timeline): iso_z(timeline.time_of(i)) for i in range(lo, hi)})
        return found

    def call(self, index: int, timeline: Timeline, account: CkctAccount | None = None) -> dict:
        """Call `index` of `timeline` exactly as this server sends it (times in `account`'s zones;
        default: the account that holds the timeline)."""
        account = account or self._holder(timeline)
        server = zone_of(account.server_zone) if account else UTC
        client = zone_of(account.client_zone) if account else MOSCOW
        n = index + timeline.id_offset
        variation = self.variation
        if self._is_new_shape(n):
            record = new_shape_call(index, timeline, server, client, variation.ckct_timezone_offset_form)
            record["cbOfficeNumber"] = "0" if variation.numbers_as_strings else 0
            record = variation.optional(record, NEW_KEYS, n, nullable=False)
        else:
            record = old_shape_call(index, timeline, server)
            if variation.ckct_time_start_form == "unix":
                record["timeStart"] = int(timeline.time_of(index).timestamp())
            record = variation.optional(record, OLD_KEYS, n)
        return variation.with_extras(record, n)

    def _holder(self, timeline: Timeline) -> CkctAccount | None:
        return next((a for a in self.accounts if timeline is a.own or timeline is a.by_role), None)

    def _is_new_shape(self, n: int) -> bool:
        shapes = self.variation.ckct_record_shapes
        return shapes == "new" or (shapes == "mixed" and n % 2 == 0)

    def _record_id(self, index: int, timeline: Timeline) -> str:
        n = index + timeline.id_offset
        return str(70_000_000_000_000_000 + n) if self._is_new_shape(n) else str(1_000_000 + n)

    # ---- HTTP ------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if not re.fullmatch(r"/api/(index\.php)?", request.path):
            return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        parts = request.query.split("/")
        while len(parts) < 8:
            parts.append("")
        fmt, version, key, entity, method, page, since, until = parts[:8]
        if self.forced_error:
            return Response.json({"inbound": {"error": self.forced_error}, "info": INFO, "payload": []})
        if fmt != "json":
            return self._error("type")
        if version != "v3":
            return self._error("version")
        account, is_role_key = self._account(key)
        if account is None:
            return self._error("user")
        if entity != "call":
            return self._error("entity")
        if method not in ("get", "getByRole", "getWithRole") or method in self.disabled_methods:
            return self._error("method")
        if (method == "getByRole") != is_role_key:
            return self._error("user")
        server = zone_of(account.server_zone)
        start = self._parse_moment(since, end_of_day=False, zone=server)
        end = self._parse_moment(until, end_of_day=True, zone=server) if until else dt.datetime.now(UTC)
        if start is None or end is None:
            return self._error("start")
        if not page.isdigit():
            return self._error("page")
        calls = self._window(account, method, start, end)
        if not calls:
            return self._error("no_rows")
        length = self.variation.ckct_page_length
        of_pages = (len(calls) + length - 1) // length
        page_no = int(page)
        if page_no >= of_pages:
            if self.variation.ckct_counters == "none" and self.variation.ckct_past_last_page == "empty_page":
                return self._page_answer([], page_no, method, start, end, len(calls), of_pages)
            return self._error("page")
        records = [self.call(index, timeline, account) for timeline, index in calls.page(page_no * length, length)]
        return self._page_answer(records, page_no, method, start, end, len(calls), of_pages)

    def _window(self, account: CkctAccount, method: str, start: dt.datetime, end: dt.datetime) -> WindowCalls:
        return WindowCalls(
            [(t, *t.index_range(start, end)) for t in account.timelines(method)], self.variation, f"{method}:{start.timestamp()}"
        )

    def _page_answer(
        self, records: list[dict], page_no: int, method: str, start: dt.datetime, end: dt.datetime, total: int, of_pages: int
    ) -> Response:
        variation = self.variation
        if variation.ckct_response_shape == "array":
            for record in records:
                record["page"] = page_no
            return Response.json(records)
        counters = {
            "pageLength": variation.ckct_page_length,
            "totalLength": total,
            "ofPages": of_pages,
            "contentLength": sum(len(str(r)) for r in records),
        }
        inbound: dict[str, object] = {
            "requestedType": "json",
            "requestedEntity": "call",
            "requestedMethod": method,
            "requestedVersion": "v3",
            "requestedParams": {"requirePage": page_no, "startDate": int(start.timestamp()), "endDate": int(end.timestamp())},
        }
        info: dict[str, object] = dict(INFO)
        if variation.ckct_counters in ("inbound", "both"):
            inbound.update(counters)
        if variation.ckct_counters in ("info", "both"):
            info = {**counters, **INFO}
        return Response.json({"inbound": inbound, "info": info, "payload": records})

    def shortened(self, response: Response) -> Response:
        """The same answer with its first call left out, counters unchanged (the `short` fault)."""
        body = json.loads(response.body)
        records = body if isinstance(body, list) else body.get("payload") if isinstance(body, dict) else None
        if records:
            records.pop(0)
        return Response.json(body, status=response.status, headers=response.headers)

    def _account(self, key: str) -> tuple[CkctAccount | None, bool]:
        if not KEY_PATTERN.fullmatch(key):
            return None, False
        for account in self.accounts:
            if key == account.user_key:
                return account, False
            if key == account.role_key:
                return account, True
        return None, False

    @staticmethod
    def _parse_moment(value: str, end_of_day: bool, zone: Zone = UTC) -> dt.datetime | None:
        """Doc 001: a unix timestamp (an instant) or "Y-m-d" (a day of the server zone); a day as `to`
        ends at its last second."""
        if value.isdigit():
            return dt.datetime.fromtimestamp(int(value), UTC)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return None
        try:
            day = dt.datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            return None
        if end_of_day:  # the last second of the day: one second before the next day begins
            return instant_of(day + dt.timedelta(days=1), zone) - dt.timedelta(seconds=1)
        return instant_of(day, zone)

    @staticmethod
    def _error(code: str) -> Response:
        return Response.json({"inbound": {"error": ERRORS[code]}, "info": {**INFO, "versions": ["v1"]}, "payload": []})


def default_ckct(
    user_key: str,
    role_key: str,
    own_count: int = 2500,
    role_count: int = 1200,
    start: str = "2024-01-01",
    end: str = "2024-04-30",
    variation: Variation | None = None,
) -> CkctEmulator:
    emulator = CkctEmulator(variation=variation or Variation.canonical())
    emulator.add_account(user_key, role_key, spread(own_count, start, end), spread(role_count, start, end, id_offset=5_000_000))
    return emulator

"""Emulator of the CallKeeper call-tracking API (ckct.ru), as seeds 000 and 001 describe it.

`GET /ckct/api/?{format}/{version}/{key}/{entity}/{method}/{page}/{from}/{to}` (also via
`index.php?`). Errors come with HTTP 200 in `inbound.error`. Pages hold 1000 calls, numbered
from 0. Two response shapes (the `inbound`/`info`/`payload` envelope, or a bare array whose
items carry `page`) and two record shapes (seed 000's `callId`/`timeStart`, seed 001's
`universalId`/`callTime`) are served, chosen per emulator instance.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from integration_tests.emulator.server import Request, Response
from integration_tests.emulator.timeline import UTC, Timeline, spread

PAGE_LENGTH = 1000
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


def _fmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def new_shape_call(index: int, timeline: Timeline) -> dict:
    """A call as seed 001 documents it (every field, never null)."""
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
        "callTime": _fmt(moment),
        "localDate": _fmt(moment + dt.timedelta(hours=3)),
        "timezoneOffset": "+0300",
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
        "cbOrderDate": _fmt(moment) if service == "callback" else "",
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
            [{"hookEventName": "AFTER_CALL_FINISH", "hookAddress": "https://server.ru/path", "hookMethod": "POST", "hookResponseStatus": 200}]
            if n % 4 == 1
            else []
        ),
    }


def old_shape_call(index: int, timeline: Timeline) -> dict:
    """A call as seed 000 documents it."""
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
        "timeStart": _fmt(moment),
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


@dataclass
class CkctAccount:
    user_key: str
    role_key: str
    own: Timeline
    by_role: Timeline


@dataclass
class CkctEmulator:
    """`response_shape`: "envelope" or "array"; `record_shape`: "new" (seed 001) or "old" (seed 000)."""

    accounts: List[CkctAccount] = field(default_factory=list)
    response_shape: str = "envelope"
    record_shape: str = "new"
    disabled_methods: set = field(default_factory=set)  # answer "Method does not exist" for these
    forced_error: Optional[str] = None  # answer every request with this `inbound.error`

    def add_account(self, user_key: str, role_key: str, own: Timeline, by_role: Timeline) -> CkctAccount:
        account = CkctAccount(user_key, role_key, own, by_role)
        self.accounts.append(account)
        return account

    # ---- what the emulator holds, for completeness assertions -------------------------------
    def call_ids(self, timeline: Timeline, since: str, until: str) -> List[str]:
        from integration_tests.emulator.timeline import parse_utc

        lo, hi = timeline.index_range(parse_utc(since), parse_utc(until))
        return [self._record_id(i, timeline) for i in range(lo, hi)]

    def _record_id(self, index: int, timeline: Timeline) -> str:
        n = index + timeline.id_offset
        return str(70_000_000_000_000_000 + n) if self.record_shape == "new" else str(1_000_000 + n)

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
        start = self._parse_moment(since, end_of_day=False)
        if start is None:
            return self._error("start")
        end = self._parse_moment(until, end_of_day=True) if until else dt.datetime.now(UTC)
        if end is None:
            return self._error("start")
        timelines = {"get": [account.own], "getByRole": [account.by_role], "getWithRole": [account.own, account.by_role]}[method]
        ranges = [(t, *t.index_range(start, end)) for t in timelines]
        total = sum(hi - lo for _, lo, hi in ranges)
        if total == 0:
            return self._error("no_rows")
        of_pages = (total + PAGE_LENGTH - 1) // PAGE_LENGTH
        if not page.isdigit() or int(page) >= of_pages:
            return self._error("page")
        page_no = int(page)
        records = self._page(ranges, page_no * PAGE_LENGTH, PAGE_LENGTH)
        if self.response_shape == "array":
            for record in records:
                record["page"] = page_no
            return Response.json(records)
        return Response.json(
            {
                "inbound": {
                    "requestedType": "json",
                    "requestedEntity": "call",
                    "requestedMethod": method,
                    "requestedVersion": "v3",
                    "requestedParams": {"requirePage": page_no, "startDate": int(start.timestamp()), "endDate": int(end.timestamp())},
                },
                "info": {"pageLength": PAGE_LENGTH, "totalLength": total, "ofPages": of_pages, "contentLength": 0, **INFO},
                "payload": records,
            }
        )

    def _page(self, ranges, offset: int, limit: int) -> List[dict]:
        make = new_shape_call if self.record_shape == "new" else old_shape_call
        out: List[dict] = []
        for timeline, lo, hi in ranges:
            size = hi - lo
            if offset >= size:
                offset -= size
                continue
            take = range(lo + offset, min(hi, lo + offset + limit - len(out)))
            out.extend(make(i, timeline) for i in take)
            offset = 0
            if len(out) >= limit:
                break
        return out

    def _account(self, key: str) -> Tuple[Optional[CkctAccount], bool]:
        for account in self.accounts:
            if key == account.user_key:
                return account, False
            if key == account.role_key:
                return account, True
        return None, False

    @staticmethod
    def _parse_moment(value: str, end_of_day: bool) -> Optional[dt.datetime]:
        if value.isdigit():
            return dt.datetime.fromtimestamp(int(value), UTC)
        try:
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            return None
        return day + dt.timedelta(hours=23, minutes=59, seconds=59) if end_of_day else day

    @staticmethod
    def _error(code: str) -> Response:
        return Response.json({"inbound": {"error": ERRORS[code]}, "info": {**INFO, "versions": ["v1"]}, "payload": []})


def default_ckct(user_key: str, role_key: str, own_count: int = 2500, role_count: int = 1200,
                 start: str = "2024-01-01", end: str = "2024-04-30") -> CkctEmulator:
    emulator = CkctEmulator()
    emulator.add_account(user_key, role_key, spread(own_count, start, end), spread(role_count, start, end, id_offset=5_000_000))
    return emulator

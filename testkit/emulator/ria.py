"""Emulator of RIA.com `calls_stat` behind its API gateway, as the vendor's document "Получение данных о
звонке" (doc 002) describes it.

`GET /ria/auto/new/calls_stat?user_id=...&from=YYYY-MM-DD&to=YYYY-MM-DD&api_key=...` answers a bare
JSON array of the calls of those whole days (both included). Errors come from the gateway as
`{"error": {"code": "...", "message": "..."}}`: API_KEY_* (403), HTTPS_REQUIRED (400),
OVER_RATE_LIMIT (429, no Retry-After), NOT_FOUND (404). Each key has an hourly request quota
(30 by default, as reported for the free plan): requests beyond it answer OVER_RATE_LIMIT and are
not counted. A `user_id` that is not the key's account answers an empty array.

Strict where the document is specific: `from`/`to` only as `YYYY-MM-DD`, the fields and types of its
sample. Varied where it is silent (see variation.py): the order of the calls (the sample is newest
first), `marka`/`model`/`link` null (as the sample sends `marka: null`) or left out, and
undocumented extra fields.

Zone. The document writes `date` as `2021-07-31T15:57:01`, with no zone, and `from`/`to` as days; RIA.com
is a Ukrainian service, so the emulator writes `date` as Europe/Kyiv wall-clock time (Ukraine keeps
daylight-saving time: 2024-03-31 03:00 EET became 04:00 EEST) and reads `from`/`to` as Kyiv calendar
days, both included. A call's time itself is a UTC instant (`timeline`), so `expected` tells the truth
in UTC.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from testkit.emulator.server import Request, Response
from testkit.emulator.timeline import UTC, Timeline, instant_of, iso_z, spread, utc_bound, wall_clock, zone_of
from testkit.emulator.variation import Variation

CONTACT = "https://developers.ria.com/contact"
KYIV = zone_of("Europe/Kyiv")
ERRORS: dict[str, tuple] = {
    "API_KEY_MISSING": (403, "No api_key was supplied. Get one at https://developers.ria.com"),
    "API_KEY_INVALID": (403, "An invalid api_key was supplied. Get one at https://developers.ria.com"),
    "API_KEY_DISABLED": (403, f"The api_key supplied has been disabled. Contact us at {CONTACT} for assistance"),
    "API_KEY_UNAUTHORIZED": (
        403,
        f"The api_key supplied is not authorized to access the given service. Contact us at {CONTACT} for assistance",
    ),
    "API_KEY_UNVERIFIED": (
        403,
        "The api_key supplied has not been verified yet. Please check your e-mail to verify the API key.",
    ),
    "HTTPS_REQUIRED": (
        400,
        "Requests must be made over HTTPS. Try accessing the API at: https://developers.ria.com/auto/new/calls_stat",
    ),
    "OVER_RATE_LIMIT": (429, f"You have exceeded your rate limit. Try again later or contact us at {CONTACT} for assistance"),
    "NOT_FOUND": (404, "The requested URL was not found on this server."),
    # Not documented; what the emulator answers for a malformed date.
    "BAD_REQUEST": (400, "from and to must be dates as YYYY-MM-DD"),
}
STATUSES = ("ANSWER", "ANSWER", "NOANSWER", "CANCEL", "BUSY", "ANSWER", "FAILED", "CONGESTION", "BYSY", "ANSWER")
MAKES = ((98, "Acura", 955, "MDX"), (9, "BMW", 3219, "X5"), (79, "Toyota", 698, "Camry"), (0, None, 0, None))


def error_response(code: str) -> Response:
    status, message = ERRORS[code]
    return Response.json({"error": {"code": code, "message": message}}, status=status)


def call_record(index: int, timeline: Timeline) -> dict:
    """A call with every field seed 002 lists, shaped like its example."""
    n = index + timeline.id_offset
    status = STATUSES[n % len(STATUSES)]
    marka_id, marka, model_id, model = MAKES[n % len(MAKES)]
    moment = timeline.time_of(index).astimezone(KYIV)  # the wall-clock time in Kyiv
    answered = status == "ANSWER"
    return {
        "call_id": 22_300_000 + n,
        "caller_phone": f"09{n % 100_000_000:08d}",
        "date": wall_clock(moment, KYIV, "%Y-%m-%dT%H:%M:%S"),
        "destination_phone": "0731375686",
        "duration": (n * 11) % 300 + 5 if answered else 0,
        "link": (
            f"https://track.ria.com/call_link/{n:x}/{moment:%Y/%m/%d}/"
            f"380731375686=3809{n % 100_000_000:08d}={moment:%H-%M-%S}.wav"
            if answered
            else ""
        ),
        "marka": marka,
        "marka_id": marka_id,
        "model": model,
        "model_id": model_id,
        "phone": f"0730{n % 1_000_000:06d}",
        "price": 0 if n % 7 else 15_000 + n % 10_000,
        "status": status,
        "waighting": n % 50,
    }


@dataclass
class RiaAccount:
    api_key: str
    user_id: str
    calls: Timeline


# Never left out: every field but marka, model and link (the document's sample sends them null or empty).
KEYS = (
    "call_id",
    "caller_phone",
    "date",
    "destination_phone",
    "duration",
    "marka_id",
    "model_id",
    "phone",
    "price",
    "status",
    "waighting",
)


@dataclass
class RiaEmulator:
    accounts: list[RiaAccount] = field(default_factory=list)
    variation: Variation = field(default_factory=Variation.canonical)
    hourly_limit: int = 30  # requests per key per rolling hour
    disabled_keys: set[str] = field(default_factory=set)
    unverified_keys: set[str] = field(default_factory=set)
    unauthorized_keys: set[str] = field(default_factory=set)
    https_required: bool = False  # loopback is plain HTTP; True answers HTTPS_REQUIRED
    _spent: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_account(self, api_key: str, user_id: str, calls: Timeline) -> RiaAccount:
        account = RiaAccount(api_key, user_id, calls)
        self.accounts.append(account)
        return account

    # ---- what the emulator holds, for completeness assertions -------------------------------
    def account_of(self, api_key: str | None = None) -> RiaAccount:
        """The account of `api_key` (default: the first account)."""
        if api_key is None:
            return self.accounts[0]
        account = next((a for a in self.accounts if a.api_key == api_key), None)
        if account is None:
            raise KeyError("no RIA.com account with that key")
        return account

    def call_ids(self, since_day: str, until_day: str, api_key: str | None = None) -> list[int]:
        """The ids of the calls from `since_day` 00:00:00 to `until_day` 23:59:59, days of UTC (as they
        always were here: not the Kyiv days a request reads), in time order."""
        timeline = self.account_of(api_key).calls
        since = dt.datetime.strptime(since_day, "%Y-%m-%d").replace(tzinfo=UTC)
        until = dt.datetime.strptime(until_day, "%Y-%m-%d").replace(tzinfo=UTC) + dt.timedelta(hours=23, minutes=59, seconds=59)
        lo, hi = timeline.index_range(since, until)
        return [22_300_000 + i + timeline.id_offset for i in range(lo, hi)]

    def expected(self, api_key: str, since=None, until=None) -> dict[int, str]:
        """The calls of the account of `api_key` with since <= time < until (UTC instants: ISO strings, UTC
        unless they carry an offset, or aware datetimes; None: unbounded), as {call_id: the UTC instant of
        `date` as `2024-01-01T00:00:00Z`}."""
        timeline = self.account_of(api_key).calls
        lo, hi = timeline.half_open_range(utc_bound(since, "1970-01-01"), utc_bound(until, "2100-01-01"))
        return {22_300_000 + i + timeline.id_offset: iso_z(timeline.time_of(i)) for i in range(lo, hi)}

    @staticmethod
    def days_of(since_day: str, until_day: str):
        """The UTC instants (first, last second) a request `from=since_day&to=until_day` covers: Kyiv days."""
        return _day_bounds(since_day, until_day)

    def reset_quota(self) -> None:
        with self._lock:
            self._spent.clear()

    # ---- HTTP ------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.rstrip("/") != "/auto/new/calls_stat":
            return error_response("NOT_FOUND")
        if self.https_required:
            return error_response("HTTPS_REQUIRED")
        params = {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        key = params.get("api_key") or request.headers.get("X-Api-Key")
        if not key:
            return error_response("API_KEY_MISSING")
        account = next((a for a in self.accounts if a.api_key == key), None)
        if account is None:
            return error_response("API_KEY_INVALID")
        for keys, code in (
            (self.disabled_keys, "API_KEY_DISABLED"),
            (self.unverified_keys, "API_KEY_UNVERIFIED"),
            (self.unauthorized_keys, "API_KEY_UNAUTHORIZED"),
        ):
            if key in keys:
                return error_response(code)
        if not self._spend(key):
            return error_response("OVER_RATE_LIMIT")
        try:
            since, until = _day_bounds(params.get("from", ""), params.get("to", ""))
        except ValueError:
            return error_response("BAD_REQUEST")
        if params.get("user_id") != account.user_id:
            return Response.json([])
        lo, hi = account.calls.index_range(since, until)
        return Response.json([self.call(i, account.calls) for i in self._ordered(lo, hi)])

    def call(self, index: int, timeline: Timeline) -> dict:
        """Call `index` exactly as this server sends it."""
        variation = self.variation
        return variation.with_extras(variation.optional(call_record(index, timeline), KEYS, index), index)

    def _ordered(self, lo: int, hi: int) -> list[int]:
        """In the order the seed says (the document's example is newest first: "descending")."""
        return [lo + p for p in self.variation.page_positions(hi - lo, 0, hi - lo, f"ria:{lo}")]

    def _spend(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            spent = [t for t in self._spent.get(key, []) if now - t < 3600]
            if len(spent) >= self.hourly_limit:
                self._spent[key] = spent
                return False
            spent.append(now)
            self._spent[key] = spent
            return True


def _day_bounds(since_day: str, until_day: str):
    """`from`/`to` as Kyiv calendar days, both included: from the first's 00:00 to the last second
    before the day after the second (a day of 23 or 25 hours where daylight saving changes)."""
    since = dt.datetime.strptime(since_day, "%Y-%m-%d")
    until = dt.datetime.strptime(until_day, "%Y-%m-%d") + dt.timedelta(days=1)
    return instant_of(since, KYIV), instant_of(until, KYIV) - dt.timedelta(seconds=1)


def default_ria(
    api_key: str,
    user_id: str,
    calls: int = 1200,
    start: str = "2024-01-01",
    end: str = "2024-04-30T23:59:59",
    hourly_limit: int = 30,
    variation: Variation | None = None,
) -> RiaEmulator:
    emulator = RiaEmulator(hourly_limit=hourly_limit, variation=variation or Variation.canonical())
    emulator.add_account(api_key, user_id, spread(calls, start, end))
    return emulator

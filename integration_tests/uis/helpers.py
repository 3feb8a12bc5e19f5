"""What the tests of the UIS / CoMagic Data API share: its streams with their methods, keys and
cursors, a config of the provider, the JSON-RPC bodies its emulator was sent, their windows in UTC,
and fault `match`es that hit the reports only (since 0.2.0 a sync first asks `get.account` for the
account's time zone, once per account)."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from testkit.emulator.uis import ACCOUNT_METHODS, TABLE
from testkit.emulator.world import END_DATE, world_config

END = END_DATE + "T23:59:59"
METHODS = {spec["stream"]: method for method, spec in TABLE.items()}
STREAMS = list(METHODS)
WINDOWED = {
    "uis_communications": "date_time",
    "uis_calls": "start_time",
    "uis_call_legs": "start_time",
    "uis_goals": "date_time",
    "uis_chats": "date_time",
    "uis_offline_messages": "date_time",
    "uis_visitor_sessions": "date_time",
    "uis_financial_call_legs": "start_time",
}
PRIMARY_KEYS = {
    **{stream: ["id"] for stream in WINDOWED},
    "uis_financial_call_legs": ["call_session_id", "leg_id"],
    "uis_chat_messages": ["chat_id", "date_time", "source", "text"],
    "uis_visitors": ["id"],
    "uis_financial_summary": ["date"],
    "uis_sales": ["id"],
    "uis_api_requests": ["date_time", "request_id", "method", "ip_address"],
}
# Since 0.2.0 the cursor of the windowed reports and chat messages is `event_time_utc`; the financial
# summary keeps `date`, a day of the account's months.
CURSORS = {
    **{stream: "event_time_utc" for stream in WINDOWED},
    "uis_chat_messages": "event_time_utc",
    "uis_financial_summary": "date",
}
FMT = "%Y-%m-%d %H:%M:%S"
STATE_FMT = "%Y-%m-%dT%H:%M:%SZ"  # a state value of an `event_time_utc` cursor
REPORT_METHODS = frozenset(METHODS.values())
# By design (0.2.0) a window of UTC instants is asked in the account's zone one second wider at each end.
MARGIN = dt.timedelta(seconds=1)
UTC = dt.UTC


def uis(emulator):
    return emulator.vendors["uis"]


def uis_config(emulator, **overrides):
    return world_config(emulator, ["uis"], **overrides)


def bodies(emulator, method=None):
    return [b for b in uis(emulator).log if method is None or b.get("method") == method]


def window_of(body):
    params = body["params"]
    return dt.datetime.strptime(params["date_from"], FMT), dt.datetime.strptime(params["date_till"], FMT)


def method_of(request):
    """The JSON-RPC method of a request the emulator received (None if its body is not JSON-RPC)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body.get("method") if isinstance(body, dict) else None


def reports_only(request):
    """A fault `match`: the report methods, not the account methods (`get.account`, `get.customer_users`)."""
    return method_of(request) in REPORT_METHODS


def account_calls(emulator, method="get.account"):
    """The bodies of the account method `method` the emulator was sent."""
    assert method in ACCOUNT_METHODS
    return bodies(emulator, method)


def zone_of(emulator, user_id=None):
    return ZoneInfo(uis(emulator).time_zone(user_id))


def asked_utc_range(emulator, body):
    """What a windowed request asked the API for, as UTC instants (naive datetimes): its `date_from`/
    `date_till`, wall-clock times of the account's zone, both included."""
    zone = zone_of(emulator, body["params"].get("user_id"))
    return tuple(moment.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None) for moment in window_of(body))


def utc_window_of(emulator, body):
    """The window of UTC instants (naive datetimes) of a windowed request: what it asked for, narrowed
    by the one-second margin at each end."""
    since, until = asked_utc_range(emulator, body)
    return since + MARGIN, until - MARGIN


def to_window(emulator, method, utc_start=None):
    """A fault `match`: requests for `method` (and, if given, of the window whose first UTC instant is
    `utc_start`, "YYYY-MM-DD hh:mm:ss")."""
    start = None if utc_start is None else dt.datetime.strptime(utc_start, FMT)

    def match(request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return False
        if not isinstance(body, dict) or body.get("method") != method:
            return False
        return start is None or ("date_from" in (body.get("params") or {}) and utc_window_of(emulator, body)[0] == start)

    return match

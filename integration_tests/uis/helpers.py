"""What the tests of the UIS / CoMagic Data API share: its streams with their methods, keys and
cursors, a config of the provider, and the JSON-RPC bodies its emulator was sent."""

import datetime as dt

from testkit.emulator.uis import TABLE
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
CURSORS = {**WINDOWED, "uis_chat_messages": "date_time", "uis_financial_summary": "date"}
FMT = "%Y-%m-%d %H:%M:%S"


def uis(emulator):
    return emulator.vendors["uis"]


def uis_config(emulator, **overrides):
    return world_config(emulator, ["uis"], **overrides)


def bodies(emulator, method=None):
    return [b for b in uis(emulator).log if method is None or b.get("method") == method]


def window_of(body):
    params = body["params"]
    return dt.datetime.strptime(params["date_from"], FMT), dt.datetime.strptime(params["date_till"], FMT)

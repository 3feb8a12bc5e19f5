"""What the tests of RIA.com calls_stat share: its stream, a config of the provider, the parameters
and windows of its requests, the windows of UTC instants a sync reads (and the Kyiv days each asks
for, one day wider at each end: the design of 0.2.0), the ids a sync read, the emulator's truth of
a window, and the sentence of a used-up quota."""

import datetime as dt
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from testkit.emulator.timeline import parse_utc
from testkit.emulator.world import world_config

STREAM = "ria_calls"
QUOTA_MESSAGE = (
    "RIA.com: the API quota for this key is used up (OVER_RATE_LIMIT){after}. Run the sync again later (the quota is "
    "about 30 requests an hour per key); the calls read so far are kept in the state, and a larger ria.window_days "
    "spends fewer requests."
)
SECOND = dt.timedelta(seconds=1)
KYIV = ZoneInfo("Europe/Kyiv")  # the connector's default ria.time_zone


def vendor(emulator):
    return emulator.vendors["ria"]


def ria_config(emulator, **block):
    config = world_config(emulator, ["ria"])
    config["ria"].update(block)
    return config


def params_of(request):
    return {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


def windows(emulator, status=200):
    return sorted((params_of(r)["from"], params_of(r)["to"]) for r in emulator.requests_to("ria") if r.status == status)


def ids(output):
    return sorted(r.record.data["call_id"] for r in output.records)


def config_bound(value, end=False):
    """`start_date`/`end_date` as the UTC instant they mean (a bare end day: its last second)."""
    if end and len(value) == 10:
        value += "T23:59:59Z"
    return parse_utc(value)


def utc_windows(config, since=None):
    """The windows of a sync as (first, last second) UTC instants: from `since` (default start_date) in
    steps of ria.window_days (31), meeting to the second, the last one ending at end_date."""
    first = parse_utc(since) if isinstance(since, str) else since or config_bound(config["start_date"])
    end = config_bound(config["end_date"], end=True)
    step = dt.timedelta(days=config["ria"].get("window_days") or 31)
    spans = []
    while first <= end:
        spans.append((first, min(first + step - SECOND, end)))
        first += step
    return spans


def request_days(window):
    """The `from`/`to` a window is asked with: the Kyiv days of its first and last second, one day wider
    at each end."""
    first, last = window
    return (
        (first.astimezone(KYIV).date() - dt.timedelta(days=1)).isoformat(),
        (last.astimezone(KYIV).date() + dt.timedelta(days=1)).isoformat(),
    )


def truth(emulator, window, api_key=None):
    """The emulator's calls of a window (both seconds included): {call_id: "…Z"}."""
    ria = vendor(emulator)
    return ria.expected(api_key or ria.account_of().api_key, window[0], window[1] + SECOND)


def truth_of_windows(emulator, spans, api_key=None):
    found = {}
    for window in spans:
        found.update(truth(emulator, window, api_key))
    return found


def last_call_state(emulator, spans, api_key=None):
    """The state after reading `spans`: the cursor of the latest call they hold."""
    return {"event_time_utc": max(truth_of_windows(emulator, spans, api_key).values())}

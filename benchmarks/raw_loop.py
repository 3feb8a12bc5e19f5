"""The limit the connector is measured against: a plain loop over the same requests.

    python -m benchmarks.raw_loop REQUESTS.json [--concurrency N] [--since ISO --until ISO [--zone ZONE]]

Replays the exact requests a connector run made (same pages, same emulator), with `requests`
(the HTTP library the connector uses) and keep-alive sessions: N threads fetch, the main thread
parses each page with orjson and writes one JSON line per record to stdout, once per record: where
the connector's requests overlap (CallKeeper's and UIS's windows are a second wider at each end,
RIA.com's a day), a record seen already is skipped, as any program reading those requests must.
Those requests also reach past the sync period (`--since`..`--until`, UTC instants, both
included), so for UIS and RIA.com only the records whose time lies in it are written, as the
connector keeps them: RIA.com's `date` is read in `--zone` (Kyiv time), UIS's `start_time` in the
account's zone that the replayed `get.account` answered (its answer is no record). The period's
bounds are turned into each zone's wall-clock text once, so a record costs one string comparison.
No retries, no state, no schema, no transformations: the least any program must do to move these
records.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import requests

_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def fetch(request: dict[str, Any]) -> bytes:
    body = base64.b64decode(request["body"]) if request["body"] else None
    headers = {"Content-Type": request["content_type"]} if request.get("content_type") else None
    response = _session().request(request["method"], request["url"], data=body, headers=headers, timeout=120)
    return response.content


def records(vendor: str, body: Any) -> list[Any]:
    if vendor == "uis":
        return body["result"]["data"]
    if isinstance(body, dict):
        for key in ("payload", "result", "data"):
            if isinstance(body.get(key), list):
                return body[key]
        return []
    return body


# The API's own id of a record, per vendor: what tells a record read twice from a new one.
RECORD_IDS = {"uis": ("id",), "ckct": ("universalId", "callId"), "callkeeper": ("id",), "ria": ("call_id",)}


def record_id(vendor: str, record: Any) -> Any:
    for key in RECORD_IDS[vendor]:
        value = record.get(key) if isinstance(record, dict) else None
        if value not in (None, ""):
            return value
    return None


# The field of a record's time, and how its wall-clock text is written, for the vendors whose
# requests reach past the period.
EVENT_TIME = {"uis": ("start_time", "%Y-%m-%d %H:%M:%S"), "ria": ("date", "%Y-%m-%dT%H:%M:%S")}


def utc_instant(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Period:
    """The sync period as wall-clock text of one zone: `keeps(record)` compares the record's time."""

    def __init__(self, vendor: str, since: dt.datetime, until: dt.datetime, zone: str) -> None:
        self.field, form = EVENT_TIME[vendor]
        self.first, self.last = (moment.astimezone(ZoneInfo(zone)).strftime(form) for moment in (since, until))

    def keeps(self, record: Any) -> bool:
        value = record.get(self.field) if isinstance(record, dict) else None
        return isinstance(value, str) and self.first <= value <= self.last


def uis_call(request: dict[str, Any]) -> tuple[str | None, Any]:
    """(method, the client it is for: `user_id`/`customer_id`, None for the token's own account)."""
    if not request.get("body"):
        return None, None
    call = json.loads(base64.b64decode(request["body"]))
    params = call.get("params") or {}
    return call.get("method"), params.get("user_id", params.get("customer_id"))


def account_zone(body: Any) -> str | None:
    """The `timezone` of a `get.account` answer: `{"result": {"data": [{"timezone": ...}]}}`."""
    rows = (body.get("result") or {}).get("data") if isinstance(body, dict) else None
    return rows[0].get("timezone") if isinstance(rows, list) and rows and isinstance(rows[0], dict) else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("requests_file")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--since", help="the sync period's first instant (UTC); with --until, records outside it are left out")
    parser.add_argument("--until", help="the sync period's last instant (UTC), included")
    parser.add_argument("--zone", default="Europe/Kyiv", help="the zone of RIA.com's `date` (the connector's ria.time_zone)")
    args = parser.parse_args()
    with open(args.requests_file) as handle:
        todo = json.load(handle)
    bounds: tuple[dt.datetime, dt.datetime] | None = (
        (utc_instant(args.since), utc_instant(args.until)) if args.since and args.until else None
    )
    periods: dict[tuple[str, Any], Period] = {}  # (vendor, UIS client) -> the period in its zone
    if bounds and any(r["vendor"] == "ria" for r in todo):
        periods["ria", None] = Period("ria", *bounds, args.zone)
    out = sys.stdout.buffer
    dumps = orjson.dumps
    seen: set = set()
    with ThreadPoolExecutor(args.concurrency) as pool:
        for request, content in zip(todo, pool.map(fetch, todo), strict=True):
            vendor = request["vendor"]
            body = orjson.loads(content)
            method, client = uis_call(request) if vendor == "uis" else (None, None)
            if method == "get.account":
                # Asked before the account's first window (the requests are replayed in order): the zone of its rows.
                zone = account_zone(body)
                if bounds and zone:
                    periods[vendor, client] = Period(vendor, *bounds, zone)
                continue
            period = periods.get((vendor, client))
            if bounds and vendor in EVENT_TIME and period is None:
                raise SystemExit(f"raw loop: {vendor} records came before the zone of their times was known")
            lines = []
            for record in records(vendor, body):
                if period is not None and not period.keeps(record):
                    continue
                key = record_id(vendor, record)
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                lines.append(dumps(record))
            if lines:
                out.write(b"\n".join(lines) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()

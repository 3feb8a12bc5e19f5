"""The limit the connector is measured against: a plain loop over the same requests.

    python -m benchmarks.raw_loop REQUESTS.json [--concurrency N]

Replays the exact requests a connector run made (same pages, same emulator), with `requests`
(the HTTP library the connector uses) and keep-alive sessions: N threads fetch, the main thread
parses each page with orjson and writes one JSON line per record to stdout, once per record: where
the connector's requests overlap (CallKeeper's windows are a second wider at each end, RIA.com's a
day), a record seen already is skipped, as any program reading those requests must. No retries, no
state, no schema, no transformations: the least any program must do to move these records.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import orjson
import requests

_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def fetch(request: Dict[str, Any]) -> bytes:
    body = base64.b64decode(request["body"]) if request["body"] else None
    headers = {"Content-Type": request["content_type"]} if request.get("content_type") else None
    response = _session().request(request["method"], request["url"], data=body, headers=headers, timeout=120)
    return response.content


def records(vendor: str, body: Any) -> List[Any]:
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("requests_file")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with open(args.requests_file) as handle:
        todo = json.load(handle)
    out = sys.stdout.buffer
    dumps = orjson.dumps
    seen: set = set()
    with ThreadPoolExecutor(args.concurrency) as pool:
        for request, content in zip(todo, pool.map(fetch, todo)):
            vendor = request["vendor"]
            lines = []
            for record in records(vendor, orjson.loads(content)):
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

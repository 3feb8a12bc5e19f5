"""The emulator of every vendor, run in its own process for the benchmark.

    python -m benchmarks.emulator_process

Prints one JSON line with its base URL, then serves until SIGTERM. Besides the vendors it answers
`/_bench/...` (never counted as a vendor request):

- `/_bench/setup?records=N&latency=S&start=D`: a new world where each provider's main stream
  (`calltracking_calls`, `callkeeper_calls`, `ria_calls`, `uis_calls`) holds exactly N records
  spread from D (default START_DATE) to END_DATE, every request waits S seconds first; answers
  `{provider: connector config}` (sync period D..END_DATE). Resets the counters.
- `/_bench/reset`: forget the requests seen so far.
- `/_bench/stats`: `{vendor: {"count", "first", "last"}}` (time.time() of the first and last
  request, taken when the request arrived) and `log`: every vendor request (method, URL, body).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from testkit.emulator.callkeeper import default_callkeeper
from testkit.emulator.ckct import default_ckct
from testkit.emulator.ria import default_ria
from testkit.emulator.server import Emulator, Request, Response
from testkit.emulator.timeline import spread
from testkit.emulator.uis import default_uis
from testkit.emulator.world import (
    CALLKEEPER_API_KEY,
    CKCT_API_KEY,
    CKCT_ROLE_KEY,
    END_DATE,
    RIA_API_KEY,
    RIA_USER_ID,
    START_DATE,
    UIS_ACCESS_TOKEN,
    VENDOR_OF,
    world_config,
)

END = END_DATE + "T23:59:59"


class BenchWorld:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.lock = threading.Lock()
        self.stats: dict[str, dict[str, float]] = {}
        self.log: list[dict[str, Any]] = []

    def setup(self, records: int, latency: float, start: str = START_DATE) -> dict[str, Any]:
        """Each provider's main stream with exactly `records` records over start..END_DATE."""
        emulator = self.emulator
        START_DATE = start  # noqa: N806
        emulator.latency_seconds = latency
        uis = default_uis(UIS_ACCESS_TOKEN, start=START_DATE, end=END)
        uis.timelines["get.calls_report"] = spread(records, START_DATE, END)
        vendors = {
            "ckct": default_ckct(CKCT_API_KEY, CKCT_ROLE_KEY, own_count=records, role_count=1, start=START_DATE, end=END),
            "callkeeper": default_callkeeper(CALLKEEPER_API_KEY, calls=records, tap2calls=1, start=START_DATE, end=END),
            "ria": default_ria(RIA_API_KEY, RIA_USER_ID, calls=records, start=START_DATE, end=END, hourly_limit=10**9),
            "uis": uis,
        }
        for prefix, vendor in vendors.items():
            emulator.register(prefix, vendor)
            emulator.handlers[prefix] = self._counted(prefix, vendor.handle)
        self.reset()
        return {provider: world_config(emulator, [provider], start_date=start) for provider in VENDOR_OF}

    def reset(self) -> None:
        with self.lock:
            self.stats.clear()
            self.log.clear()

    def _counted(self, prefix: str, handle):
        latency = lambda: self.emulator.latency_seconds  # noqa: E731

        def counted(request: Request) -> Response:
            arrived = time.time() - latency()  # the server slept the latency before calling us
            with self.lock:
                entry = self.stats.setdefault(prefix, {"count": 0, "first": arrived, "last": arrived})
                entry["count"] += 1
                entry["last"] = max(entry["last"], arrived)
                self.log.append(
                    {
                        "vendor": prefix,
                        "method": request.method,
                        "url": self.emulator.url(prefix) + request.path + ("?" + request.query if request.query else ""),
                        "body": base64.b64encode(request.body).decode(),
                        "content_type": request.headers.get("Content-Type", ""),
                    }
                )
            return handle(request)

        return counted

    def handle(self, request: Request) -> Response:
        params = {k: v[-1] for k, v in parse_qs(request.query).items()}
        if request.path == "/setup":
            return Response.json(
                self.setup(int(params.get("records", "1000")), float(params.get("latency", "0")), params.get("start", START_DATE))
            )
        if request.path == "/reset":
            self.reset()
            return Response.json({})
        if request.path == "/stats":
            with self.lock:
                return Response.json({"vendors": self.stats, "log": self.log})
        return Response.json({"error": "unknown"}, status=404)


def main() -> None:
    emulator = Emulator().start()
    emulator.keep_log = False  # the bench world keeps its own log, reset between runs
    world = BenchWorld(emulator)
    emulator.register("_bench", world)
    print(json.dumps({"url": emulator.url("_bench")}), flush=True)
    emulator.serve_until_terminated()
    sys.exit(0)


if __name__ == "__main__":
    main()

"""Benchmark of the connector against the emulated vendor APIs on loopback.

    ./benchmarks/run [--records 100000] [--large 1000000] [--latency 0.1] [--quick]

For each provider's main stream (uis_calls, calltracking_calls, callkeeper_calls, ria_calls):

- records/s of a full `read` of `--records` records, beside the limit: `benchmarks/raw_loop.py`
  replaying the very same requests against the same emulator in the same run (after a warm-up);
  the ratio connector/raw is what matters, absolute figures depend on the machine.
- peak RSS of the connector process (ru_maxrss from wait4) at `--records` and `--large` records.
- requests spent, beside the minimum the API allows for the connector's date windows
  (UIS: ceil(rows/10000) per window of at most 3 months, and one `get.account` per account for its
  time zone; ckct: one per page of 1000 per window; CallKeeper and RIA: one per window).
- wall time with `--latency` seconds injected before every answer, beside the latency bound
  requests x latency / concurrency. This run syncs a long period (`--latency-start`..2024-04-30,
  so that there are more date windows than workers) holding `--latency-records` records: few
  enough per request that waiting, not CPU, sets the time. (At 100000 records every provider is
  CPU-bound: 100 ms per request is less than the CPU time of one page.)

The connector runs as `source-calltracking read` in its own process, the emulator in another, the
benchmark (which only counts output lines) in a third. Timings run from the first request the
emulator receives to the connector's last output line, so process start-up and teardown are not
counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.minimum import directory_requests, minimum_requests
from source_calltracking.providers import PROVIDERS as ALL_PROVIDERS
from testkit.emulator.world import START_DATE, VENDOR_OF

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROVIDERS = {
    p.config_key: (p.main_stream, VENDOR_OF[p.config_key]) for p in ALL_PROVIDERS
}  # provider: (main stream, emulator vendor)
RECORD_MARK = b'{"type":"RECORD"'


@dataclass
class Run:
    records: int = 0
    seconds: float = 0.0  # first request at the emulator -> process exit
    max_rss_mb: float = 0.0
    requests: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0
    tail: bytes = b""

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


class BenchEmulator:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.emulator_process"], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        self.url = json.loads(self.process.stdout.readline())["url"]

    def call(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=600) as answer:
            return json.loads(answer.read())

    def setup(self, records: int, latency: float = 0.0, start: str = START_DATE) -> dict[str, Any]:
        return self.call(f"/setup?records={records}&latency={latency}&start={start}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measure(command: list[str], emulator: BenchEmulator, vendor: str, count_mark: bytes | None) -> Run:
    """Run `command`, count its output records (lines with `count_mark`, or all lines), take its peak RSS."""
    emulator.call("/reset")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fd = process.stdout.fileno()
    run, carry, tail = Run(), b"", b""
    mark = count_mark or b"\n"
    last_output = time.time()
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        last_output = time.time()
        data = carry + chunk
        run.records += data.count(mark)
        carry = data[-(len(mark) - 1) :] if len(mark) > 1 else b""
        tail = (tail + chunk)[-4000:]
    _, status, usage = os.wait4(process.pid, 0)
    ended = last_output  # the last message written; the interpreter's teardown after it is not the sync's
    process.returncode = os.waitstatus_to_exitcode(status)
    stats = emulator.call("/stats")
    run.exit_code, run.tail = process.returncode, tail
    run.max_rss_mb = usage.ru_maxrss / 1024
    own = stats["vendors"].get(vendor, {"count": 0, "first": ended})
    run.requests = own["count"]
    run.seconds = ended - own["first"]
    run.log = [entry for entry in stats["log"] if entry["vendor"] == vendor]
    if run.exit_code != 0:
        sys.stderr.write(f"{' '.join(command[:2])} exited with {run.exit_code}: {tail[-1500:].decode(errors='replace')}\n")
    return run


def run_connector(emulator: BenchEmulator, config: dict[str, Any], provider: str, work: Path, concurrency: int) -> Run:
    stream, vendor = PROVIDERS[provider]
    config = dict(config, concurrency_level=concurrency)
    config_path, catalog_path = work / f"{provider}_config.json", work / f"{provider}_catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(
        json.dumps(
            {
                "streams": [
                    {
                        "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                        "sync_mode": "incremental",
                        "destination_sync_mode": "append",
                    }
                ]
            }
        )
    )
    command = [str(BIN / "source-calltracking"), "read", "--config", str(config_path), "--catalog", str(catalog_path)]
    return measure(command, emulator, vendor, RECORD_MARK)


def sync_period(config: dict[str, Any]) -> list[str]:
    """`start_date`..`end_date` as the UTC instants the connector reads (a bare end day: to its last second)."""
    start, end = config["start_date"], config.get("end_date") or START_DATE
    return [start if "T" in start else start + "T00:00:00Z", end if "T" in end else end + "T23:59:59Z"]


def run_raw(
    emulator: BenchEmulator, log: list[dict[str, Any]], provider: str, config: dict[str, Any], work: Path, concurrency: int
) -> Run:
    requests_path = work / f"{provider}_requests.json"
    requests_path.write_text(json.dumps(log))
    since, until = sync_period(config)
    command = [
        sys.executable,
        "-m",
        "benchmarks.raw_loop",
        str(requests_path),
        "--concurrency",
        str(concurrency),
        "--since",
        since,
        "--until",
        until,
    ]
    if provider == "ria":
        command += ["--zone", (config.get("ria") or {}).get("time_zone") or "Europe/Kyiv"]
    return measure(command, emulator, PROVIDERS[provider][1], None)


# ---- report ---------------------------------------------------------------------------------


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="records of the throughput run (default 100000)")
    parser.add_argument(
        "--large", type=int, default=1_000_000, help="records of the second memory run (0: skip; default 1000000)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.1, help="seconds injected per request in the latency run (default 0.1)"
    )
    parser.add_argument("--latency-records", type=int, default=500, help="records of the latency run (default 500)")
    parser.add_argument("--latency-start", default="2020-01-01", help="start_date of the latency run (default 2020-01-01)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="the connector's concurrency_level (default 4, the connector's default)"
    )
    parser.add_argument("--quick", action="store_true", help="10000 records, no 1M memory run")
    parser.add_argument("--providers", nargs="*", default=list(PROVIDERS), choices=list(PROVIDERS))
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.large = min(args.records, 10_000), 0
    latency_records = args.latency_records

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"source-calltracking benchmark: {args.records} records per stream, concurrency_level {args.concurrency}, "
        f"{cores} CPU cores shared by 3 processes (emulator, connector or raw loop, this counter).",
        flush=True,
    )
    emulator = BenchEmulator()
    rows, problems = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="calltracking-bench-") as tmp:
            work = Path(tmp)
            for provider in args.providers:
                stream, _ = PROVIDERS[provider]
                print(f"  {stream}: throughput run ...", flush=True)
                configs = emulator.setup(args.records)
                # Warm-up: the emulator compiles its record makers on first use.
                run_connector(
                    emulator,
                    json.loads(json.dumps(configs[provider])) | {"end_date": START_DATE},
                    provider,
                    work,
                    args.concurrency,
                )
                connector = run_connector(emulator, configs[provider], provider, work, args.concurrency)
                raw = run_raw(emulator, connector.log, provider, configs[provider], work, args.concurrency)
                # The report pages, and the requests that must come before them (UIS: the account's zone).
                directory = directory_requests(provider, configs[provider])
                minimum = minimum_requests(provider, args.records)[0] + directory
                for name, run in (("connector", connector), ("raw loop", raw)):
                    if run.exit_code or run.records != args.records:
                        problems.append(
                            f"{stream}: {name} emitted {run.records} records of {args.records} (exit {run.exit_code})"
                        )
                large = None
                if args.large:
                    print(f"  {stream}: memory run at {args.large} records ...", flush=True)
                    large = run_connector(emulator, emulator.setup(args.large)[provider], provider, work, args.concurrency)
                    if large.exit_code or large.records != args.large:
                        problems.append(
                            f"{stream}: {args.large}-record run emitted {large.records} records (exit {large.exit_code})"
                        )
                print(
                    f"  {stream}: latency run ({latency_records} records, {args.latency * 1000:.0f} ms per request) ...",
                    flush=True,
                )
                slow = run_connector(
                    emulator,
                    emulator.setup(latency_records, args.latency, args.latency_start)[provider],
                    provider,
                    work,
                    args.concurrency,
                )
                if slow.exit_code or slow.records != latency_records:
                    problems.append(
                        f"{stream}: latency run emitted {slow.records} records of {latency_records} (exit {slow.exit_code})"
                    )
                bound = slow.requests * args.latency / args.concurrency
                rows.append(
                    [
                        stream,
                        f"{connector.per_second:,.0f}",
                        f"{raw.per_second:,.0f}",
                        f"{connector.per_second / raw.per_second:.2f}" if raw.per_second else "-",
                        f"{connector.max_rss_mb:.0f}",
                        f"{large.max_rss_mb:.0f}" if large else "-",
                        f"{connector.requests} / {minimum}",
                        f"{large.requests} / {minimum_requests(provider, args.large)[0] + directory}" if large else "-",
                        f"{slow.requests}, {slow.seconds:.2f} s / {bound:.2f} s = {slow.seconds / bound:.2f}" if bound else "-",
                    ]
                )
    finally:
        emulator.stop()
    print()
    print(
        table(
            rows,
            [
                "stream",
                "connector rec/s",
                "raw rec/s",
                "ratio",
                f"RSS MB {args.records // 1000}k",
                f"RSS MB {args.large // 1000}k" if args.large else "RSS MB large",
                f"requests / minimum {args.records // 1000}k",
                f"requests / minimum {args.large // 1000}k" if args.large else "requests large",
                f"latency: requests, wall / bound ({args.latency * 1000:.0f} ms)",
            ],
        )
    )
    print(
        f"\nrec/s: records / seconds from the first request to the last output line; ratio = connector / raw loop "
        f"(target >= 0.5). RSS: peak of the connector process (target <= 250 MB, flat). Latency bound = "
        f"requests x {args.latency} s / concurrency {args.concurrency} (target wall <= 1.3 x bound); "
        f"latency run: {latency_records} records from {args.latency_start}."
    )
    for problem in problems:
        print("PROBLEM: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

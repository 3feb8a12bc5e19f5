"""Where the connector's CPU goes, per provider: cProfile over every thread of an in-process read.

    .venv/bin/python -m benchmarks.profile [--records 20000] [--providers uis ...] [--top 25]

The emulator runs in its own process; the connector's output goes to /dev/null.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import threading
from pathlib import Path

from benchmarks.__main__ import PROVIDERS, BenchEmulator


def profile_read(config_path: Path, catalog_path: Path) -> pstats.Stats:
    from source_calltracking.entrypoint import launch

    profiles = []

    def start(*_):  # first profile event of a new thread: give the thread its own profiler
        sys.setprofile(None)
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()

    main = cProfile.Profile()
    threading.setprofile(start)
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        main.enable()
        try:
            launch(["read", "--config", str(config_path), "--catalog", str(catalog_path)])
        finally:
            main.disable()
            threading.setprofile(None)
    stats = pstats.Stats(main)
    for profile in profiles:
        with contextlib.suppress(Exception):
            stats.add(profile)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--providers", nargs="*", default=list(PROVIDERS), choices=list(PROVIDERS))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    emulator = BenchEmulator()
    try:
        configs = emulator.setup(args.records)
        with tempfile.TemporaryDirectory() as tmp:
            for provider in args.providers:
                stream = PROVIDERS[provider][0]
                config, catalog = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
                config.write_text(json.dumps(configs[provider]))
                catalog.write_text(
                    json.dumps(
                        {
                            "streams": [
                                {
                                    "stream": {
                                        "name": stream,
                                        "json_schema": {},
                                        "supported_sync_modes": ["full_refresh", "incremental"],
                                    },
                                    "sync_mode": "incremental",
                                    "destination_sync_mode": "append",
                                }
                            ]
                        }
                    )
                )
                stats = profile_read(config, catalog)
                out = io.StringIO()
                stats.stream = out
                stats.sort_stats(args.sort).print_stats(args.top)
                print(f"===== {stream} ({args.records} records) =====")
                print(out.getvalue().split("\n", 4)[-1])
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()

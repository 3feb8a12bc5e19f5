"""Run the emulated vendor APIs until interrupted, and write a connector config that points at them.

python -m testkit.emulator --config-out secrets/emulator_config.json [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from testkit.emulator.world import build_world, world_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config-out", type=Path, help="write a connector config for the emulator here")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the default record counts")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds of latency added to every request")
    args = parser.parse_args()
    emulator = build_world(latency_seconds=args.latency, scale=args.scale).start()
    emulator.keep_log = False
    config = world_config(emulator)
    if args.config_out:
        args.config_out.parent.mkdir(parents=True, exist_ok=True)
        args.config_out.write_text(json.dumps(config, indent=2))
    print(json.dumps({"emulator": emulator.url("").rstrip("/"), "config": str(args.config_out or "")}), flush=True)
    emulator.serve_until_terminated()
    sys.exit(0)


if __name__ == "__main__":
    main()

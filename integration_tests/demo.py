"""The main job on the bundled emulator: sync every stream of every provider into a local store.

Records go to a SQLite file (`demo_output/calltracking.sqlite`, one JSON row per record) and the
state to `demo_output/state.json`, so a second run is incremental and says so.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from integration_tests.emulator.world import build_world, world_config

OUT = Path("demo_output")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    state_file = OUT / "state.json"
    exe = str(Path(sys.executable).with_name("source-calltracking"))
    with build_world() as emulator, tempfile.TemporaryDirectory() as tmp:
        config = world_config(emulator)
        del config["end_date"]
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(config))
        discovered = subprocess.run([exe, "discover", "--config", str(config_file)], capture_output=True, text=True, check=True)
        catalog = next(json.loads(l)["catalog"] for l in discovered.stdout.splitlines() if '"type":"CATALOG"' in l)
        configured = {"streams": [{"stream": s, "sync_mode": "incremental" if "incremental" in s["supported_sync_modes"] else "full_refresh",
                                   "destination_sync_mode": "append"} for s in catalog["streams"]]}
        catalog_file = Path(tmp) / "catalog.json"
        catalog_file.write_text(json.dumps(configured))
        args = [exe, "read", "--config", str(config_file), "--catalog", str(catalog_file)]
        incremental = state_file.exists()
        if incremental:
            args += ["--state", str(state_file)]
        print(("Incremental run: reading from the saved state" if incremental else "First run: full history") + f" ({len(configured['streams'])} streams)")
        db = sqlite3.connect(OUT / "calltracking.sqlite")
        db.execute("CREATE TABLE IF NOT EXISTS records (stream TEXT, data TEXT)")
        counts, states = {}, {}
        process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        for line in process.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                stream = message["record"]["stream"]
                counts[stream] = counts.get(stream, 0) + 1
                db.execute("INSERT INTO records VALUES (?, ?)", (stream, json.dumps(message["record"]["data"], ensure_ascii=False)))
            elif message["type"] == "STATE":
                states[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
            elif message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
                print("error:", message["trace"]["error"]["message"])
        db.commit()
        state_file.write_text(json.dumps(list(states.values())))
        for stream in sorted(counts):
            print(f"  {stream:40s} {counts[stream]:>8} records")
        print(f"Stored in {OUT / 'calltracking.sqlite'}; state in {state_file}. Exit code {process.wait()}.")


if __name__ == "__main__":
    main()

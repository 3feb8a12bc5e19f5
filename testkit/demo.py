"""The main job on the bundled emulator: sync every provider into a local DuckDB file through PyAirbyte.

`./run-demo` runs this with the connector's `.venv/`. It builds (once) a separate `.venv-demo/`
with the pinned PyAirbyte, starts the emulator in this process, and runs
`testkit/pyairbyte_sync.py` there against the connector's own executable, so that
PyAirbyte's pins never meet the connector's. The DuckDB file keeps PyAirbyte's state: a second
run is incremental. Nothing leaves the machine: the emulator listens on 127.0.0.1 and PyAirbyte
runs offline without telemetry.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from testkit.emulator.world import build_world, world_config
from testkit.tool_venvs import ROOT, ensure_venv

PYAIRBYTE = ["airbyte==0.71.3"]
DEMO_VENV = ROOT / ".venv-demo"
DEFAULT_CACHE = Path("demo_output/calltracking.duckdb")
SYNC_SCRIPT = ROOT / "integration_tests" / "pyairbyte_sync.py"


def connector_executable() -> Path:
    return Path(sys.executable).with_name("source-calltracking")


def pyairbyte_sync(config: Dict[str, Any], cache: Path, summary_json: Optional[Path] = None,
                   capture: bool = False) -> subprocess.CompletedProcess:
    """One PyAirbyte sync of every stream into `cache` (a DuckDB file), in the PyAirbyte venv."""
    python = ensure_venv(DEMO_VENV, PYAIRBYTE) / "python"
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(config))
        command: List[str] = [str(python), str(SYNC_SCRIPT), "--config", str(config_file),
                              "--executable", str(connector_executable()), "--cache", str(cache)]
        if summary_json is not None:
            command += ["--summary-json", str(summary_json)]
        # PYTHONPATH of the connector's venv must not leak into PyAirbyte's interpreter.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run(command, env=env, text=True, capture_output=capture)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="the DuckDB file (default: %(default)s)")
    args = parser.parse_args()
    ensure_venv(DEMO_VENV, PYAIRBYTE)
    with build_world() as emulator:
        config = world_config(emulator)
        print(f"Emulator of every vendor API on {emulator.url('').rstrip('/')}; syncing "
              f"{', '.join(p for p in config if isinstance(config[p], dict))} through PyAirbyte into {args.cache}")
        sys.stdout.flush()
        done = pyairbyte_sync(config, args.cache)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()

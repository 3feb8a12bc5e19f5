"""The main job on the bundled emulator: sync every provider into a local DuckDB file through PyAirbyte.

`./run-demo` runs this with the connector's `.venv/`. It builds (once) a separate `.venv-demo/`
with the pinned PyAirbyte (on a Python it accepts, see tool_venvs.PYTHON_BELOW), starts the
emulator in this process, and runs `testkit/pyairbyte_sync.py` there against the connector's own
executable, so that PyAirbyte's pins never meet the connector's. The DuckDB file keeps PyAirbyte's
state: a second run is incremental. Nothing leaves the machine: the emulator listens on 127.0.0.1
and PyAirbyte runs offline without telemetry.

`./run-demo --postgres` writes into your PostgreSQL server instead (PyAirbyte's Postgres cache),
connected with PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE and PGSCHEMA (see
pyairbyte_sync.POSTGRES_DEFAULTS); the state is then kept in that schema.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from testkit.emulator.world import build_world, world_config
from testkit.pyairbyte_sync import postgres_settings, postgres_shown
from testkit.tool_venvs import ROOT, ensure_venv

PYAIRBYTE = ["airbyte==0.71.3"]
DEMO_VENV = ROOT / ".venv-demo"
DEFAULT_CACHE = Path("demo_output/calltracking.duckdb")
SYNC_SCRIPT = ROOT / "testkit" / "pyairbyte_sync.py"


def connector_executable() -> Path:
    return Path(sys.executable).with_name("source-calltracking")


def pyairbyte_sync(
    config: dict[str, Any],
    cache: Path,
    summary_json: Path | None = None,
    capture: bool = False,
    postgres: bool = False,
    environment: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """One PyAirbyte sync of every stream into `cache` (a DuckDB file), in the PyAirbyte venv; with `postgres`,
    into the PostgreSQL server that the PG* variables of `environment` (default: this process's) name."""
    python = ensure_venv(DEMO_VENV, PYAIRBYTE) / "python"
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(config))
        command: list[str] = [
            str(python),
            str(SYNC_SCRIPT),
            "--config",
            str(config_file),
            "--executable",
            str(connector_executable()),
            "--cache",
            str(cache),
        ]
        if summary_json is not None:
            command += ["--summary-json", str(summary_json)]
        if postgres:
            command.append("--postgres")  # the password goes in the environment, never on a command line
        # PYTHONPATH of the connector's venv must not leak into PyAirbyte's interpreter.
        env = {
            k: v
            for k, v in (os.environ if environment is None else environment).items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        return subprocess.run(command, env=env, text=True, capture_output=capture)


def postgres_unreachable(settings: Mapping[str, Any]) -> str | None:
    """Why no PostgreSQL server can be reached at PGHOST:PGPORT, in a sentence, or None when one answers."""
    try:
        with socket.create_connection((settings["host"], settings["port"]), timeout=5):
            return None
    except OSError as error:
        return (
            f"PostgreSQL: nothing answers on {settings['host']}:{settings['port']} ({error.strerror or error}). "
            f"Start the server, or set PGHOST and PGPORT (and PGUSER, PGPASSWORD, PGDATABASE, PGSCHEMA) to yours."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="the DuckDB file (default: %(default)s)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="sync into PostgreSQL (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSCHEMA) instead of DuckDB",
    )
    args = parser.parse_args()
    target = str(args.cache)
    if args.postgres:
        settings = postgres_settings()
        problem = postgres_unreachable(settings)
        if problem:
            sys.exit(problem)
        target = postgres_shown(settings)
    ensure_venv(DEMO_VENV, PYAIRBYTE)
    with build_world() as emulator:
        config = world_config(emulator)
        print(
            f"Emulator of every vendor API on {emulator.url('').rstrip('/')}; syncing "
            f"{', '.join(p for p in config if isinstance(config[p], dict))} through PyAirbyte into {target}"
        )
        sys.stdout.flush()
        done = pyairbyte_sync(config, args.cache, postgres=args.postgres)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()

"""Separate virtual environments for tools that have their own pins (PyAirbyte, Meltano, target-jsonl).

They never share the connector's `.venv/`: PyAirbyte and Meltano pin their own versions of
libraries the connector also uses. Each environment is created once, with exact versions, and
reused while its requirements stay the same (a marker file inside records them). `uv` (a dev
dependency of the connector) installs them in seconds; plain pip is the fallback.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
MARKER = "tool-requirements.txt"


def ensure_venv(path: Path, requirements: Sequence[str], announce=print) -> Path:
    """The bin/ directory of a venv at `path` holding exactly `requirements`; built if missing or stale."""
    path = Path(path)
    wanted = "\n".join(requirements) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    locks = ROOT / ".cache" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs or a test and the demo may build it at once
        marker = path / MARKER
        if marker.exists() and marker.read_text() == wanted and (path / "bin" / "python").exists():
            return path / "bin"
        started = time.monotonic()
        announce(f"Installing {' '.join(requirements)} into {_shown(path)}/ (once; reused afterwards) ...")
        shutil.rmtree(path, ignore_errors=True)
        _install(path, requirements)
        marker.write_text(wanted)
        announce(f"Installed in {time.monotonic() - started:.0f} s.")
    return path / "bin"


def _install(path: Path, requirements: Sequence[str]) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv:
        try:
            _run([uv, "venv", "--quiet", "--python", sys.executable, str(path)])
            _run([uv, "pip", "install", "--quiet", "--python", str(path / "bin" / "python"), *requirements])
            return
        except RuntimeError as error:
            print(f"uv could not install them ({error}); trying pip.", file=sys.stderr)
            shutil.rmtree(path, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(path)])
    _run([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements])


def _run(command: Sequence[str]) -> None:
    # Output is kept for failures only: pip warns once per package about this machine's empty local indexes.
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip() and "is ignored: it is neither" not in line]
        raise RuntimeError(f"{Path(command[0]).name} {command[1]} failed: " + " / ".join(lines[-5:]))


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

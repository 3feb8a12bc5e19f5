"""Separate virtual environments for tools that have their own pins (PyAirbyte, Meltano, target-jsonl).

They never share the connector's `.venv/`: PyAirbyte and Meltano pin their own versions of
libraries the connector also uses. Each environment is created once, with exact versions, and
reused while its requirements and its Python stay the same (a marker file inside records them). `uv`
(a dev dependency of the connector) installs them in seconds; plain pip is the fallback.

A tool's venv uses the connector's own Python unless the tool's pinned release refuses it
(`PYTHON_BELOW`); then the newest allowed `python3.X` on PATH, or else from pyenv, as
tools/venv.sh finds the connector's.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "tool-requirements.txt"
# Tools whose pinned release does not install on every Python the connector runs on: the first Python
# version they refuse. PyAirbyte 0.71.x declares `Requires-Python: <3.13,>=3.10`, and the connector's
# .venv is 3.13 where there is one.
PYTHON_BELOW = {"airbyte": (3, 13)}
OLDEST_TOOL_PYTHON = (3, 11)  # the oldest Python the connector supports, and so the oldest worth trying


def ensure_venv(path: Path, requirements: Sequence[str], announce=print) -> Path:
    """The bin/ directory of a venv at `path` holding exactly `requirements`; built if missing or stale."""
    path = Path(path)
    python = tool_python(requirements)
    wanted = "\n".join(requirements) + f"\n# {python_version(python)}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    locks = ROOT / ".cache" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs or a test and the demo may build it at once
        marker = path / MARKER
        if marker.exists() and marker.read_text() == wanted and (path / "bin" / "python").exists():
            return path / "bin"
        started = time.monotonic()
        announce(
            f"Installing {' '.join(requirements)} into {_shown(path)}/ with {python_version(python)} ({python}; once, "
            f"reused afterwards) ..."
        )
        shutil.rmtree(path, ignore_errors=True)
        _install(path, requirements, python)
        marker.write_text(wanted)
        announce(f"Installed in {time.monotonic() - started:.0f} s.")
    return path / "bin"


def tool_python(requirements: Sequence[str]) -> str:
    """The interpreter for a tool venv: the connector's own unless a requirement refuses its version."""
    below = min((bound for name, bound in PYTHON_BELOW.items() if any(_named(r) == name for r in requirements)), default=None)
    if below is None or sys.version_info[:2] < below:
        return sys.executable
    allowed = [(3, minor) for minor in range(below[1] - 1, OLDEST_TOOL_PYTHON[1] - 1, -1)]
    for version in allowed:
        found = _python_on_path(version) or _python_from_pyenv(version)
        if found:
            return found
    wanted = " or ".join(f"python{major}.{minor}" for major, minor in allowed)
    raise RuntimeError(
        f"{', '.join(requirements)} needs Python older than {below[0]}.{below[1]}, and no {wanted} was found "
        f"on PATH or in pyenv: install one (e.g. `pyenv install {allowed[0][0]}.{allowed[0][1]}`)."
    )


def python_version(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import sys; print('Python %d.%d.%d' % sys.version_info[:3])"], capture_output=True, text=True
    )
    return done.stdout.strip() or f"Python of {python}"


def _named(requirement: str) -> str:
    for separator in "=<>!~[; ":
        requirement = requirement.split(separator)[0]
    return requirement.strip().lower()


def _python_on_path(version: tuple[int, int]) -> str | None:
    # A pyenv shim is on PATH for every installed version but runs only the selected ones: run it to know.
    found = shutil.which(f"python{version[0]}.{version[1]}")
    return found if found and _runs_as(found, version) else None


def _python_from_pyenv(version: tuple[int, int]) -> str | None:
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return None
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
    name = f"python{version[0]}.{version[1]}"
    candidates = glob.glob(os.path.join(root, "versions", f"{version[0]}.{version[1]}.*", "bin", name))
    for candidate in sorted(
        candidates, key=lambda c: [int(p) if p.isdigit() else -1 for p in Path(c).parents[1].name.split(".")], reverse=True
    ):
        if _runs_as(candidate, version):
            return candidate
    return None


def _runs_as(python: str, version: tuple[int, int]) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == f"{version[0]}.{version[1]}"


def _install(path: Path, requirements: Sequence[str], python: str) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv:
        try:
            _run([uv, "venv", "--quiet", "--python", python, str(path)])
            _run([uv, "pip", "install", "--quiet", "--python", str(path / "bin" / "python"), *requirements])
            return
        except RuntimeError as error:
            print(f"uv could not install them ({error}); trying pip.", file=sys.stderr)
            shutil.rmtree(path, ignore_errors=True)
    _run([python, "-m", "venv", str(path)])
    _run([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements])


def _run(command: Sequence[str]) -> None:
    # Output is kept for failures only: pip warns once per package about this machine's empty local indexes.
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if done.returncode != 0:
        lines = [
            line for line in (done.stderr + done.stdout).splitlines() if line.strip() and "is ignored: it is neither" not in line
        ]
        raise RuntimeError(f"{Path(command[0]).name} {command[1]} failed: " + " / ".join(lines[-5:]))


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)

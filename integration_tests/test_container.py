"""The Docker image: built from ./Dockerfile without network and run against the emulator.

Runs tools/container_smoke_test.sh (see its header): a local Debian trixie base with Python 3.13,
made with debootstrap, stands in for Airbyte's python-connector-base 4.1.0 (Python 3.13, which
cannot be pulled here); the image is built with podman from cp313 wheels built on the host by a
Python 3.13; `spec`, `check` (good and bad keys), `discover` and `read` of every stream run in the
container against the emulator, with assertions on every output; and one more read of `ria_calls`
from an emulator whose single answer is over 4 MB (the connector reads it from a temporary file)
must bring every call that emulator holds, once each, and the emulator must have measured its
answer over the threshold.

Cost, measured on this project's 2-core machine, idle or shared with other work (load 9): 1.6-5
minutes the first time (debootstrap 0.6-2.1 min, wheels 0.2-0.6 min with pip's download cache warm,
image build 0.4-1.4 min, the six commands 0.3-0.6 min, of which the large read 4-10 s), plus ~25 s of
apt-get when podman is missing; 0.7-1.7 minutes afterwards (the base image stays in podman's storage
and its tarball and the wheels in .cache/container/; the image is built again each time).
It needs root (debootstrap, rootful podman) and a Python 3.13 on the host for the wheels; podman,
runc and debootstrap are installed with apt-get when missing. Where it cannot run, it is skipped
and says why on the terminal. Set CALLTRACKING_SKIP_CONTAINER_TEST=1 to leave it out of a quick
local run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "container_smoke_test.sh"
TOOLS = ("podman", "runc", "debootstrap")
BASE_PYTHON = "3.13"  # the Python of Airbyte's python-connector-base 4.1.x and of the script's local base


def why_it_cannot_run() -> str | None:
    if os.environ.get("CALLTRACKING_SKIP_CONTAINER_TEST"):
        return "CALLTRACKING_SKIP_CONTAINER_TEST is set"
    if not sys.platform.startswith("linux"):
        return f"it needs Linux (podman, debootstrap), this is {sys.platform}"
    if shutil.which("bash") is None:
        return "bash is not installed"
    if os.geteuid() != 0:
        return "it needs root (debootstrap and rootful podman); run tools/container_smoke_test.sh as root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing and shutil.which("apt-get") is None:
        return f"{', '.join(missing)} not installed and no apt-get to install them"
    if wheel_python() is None:
        return f"no Python {BASE_PYTHON} with pip to build the image's wheels (set WHEEL_PYTHON)"
    return None


def wheel_python() -> str | None:
    """A Python of the base image's version with pip, looked for as the script does: WHEEL_PYTHON, then
    python3.13 on PATH, then pyenv's 3.13.*, then this interpreter."""
    candidates = [os.environ.get("WHEEL_PYTHON"), shutil.which(f"python{BASE_PYTHON}")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
        if root:
            candidates += sorted(str(p) for p in Path(root).glob(f"versions/{BASE_PYTHON}.*/bin/python{BASE_PYTHON}"))
    candidates.append(sys.executable)
    check = f"import sys, pip; sys.exit('%d.%d' % sys.version_info[:2] != '{BASE_PYTHON}')"
    for candidate in filter(None, candidates):
        try:
            if (
                subprocess.run(
                    [candidate, "-c", check], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
                ).returncode
                == 0
            ):
                return candidate
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


def say(request: pytest.FixtureRequest, text: str) -> None:
    """Write to the terminal at once, whatever pytest captures."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:  # pragma: no cover - pytest without its plugins
        print(text, file=sys.__stderr__)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(text)


def test_the_image_builds_offline_and_runs_spec_check_discover_read(request):
    reason = why_it_cannot_run()
    if reason:
        say(request, f"\n[container test] SKIPPED: {reason}")
        pytest.skip(f"container test not run: {reason}")
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
    )
    elapsed = time.monotonic() - started
    output = result.stdout
    say(
        request,
        f"\n[container test] tools/container_smoke_test.sh exited {result.returncode} after {elapsed:.0f} s:\n"
        + "\n".join("    " + line for line in output.splitlines()[-14:]),
    )
    assert result.returncode == 0, output[-6000:]
    # The script asserts on each output itself; these lines prove each step ran and passed.
    for line in (
        "base image: localhost/calltracking-smoke-base:trixie-py313 (Python 3.13.",
        "spec: SPEC present",
        "check: SUCCEEDED",
        "bad keys -> check: FAILED",
        "discover: ",
        "read: ",
        "large read: ria_calls=",
        "PASSED: the image built offline",
    ):
        assert line in output, f"the smoke test printed no '{line}' line:\n{output[-6000:]}"

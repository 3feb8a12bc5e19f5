"""The Docker image: built from ./Dockerfile without network and run against the emulator.

Runs tools/container_smoke_test.sh (see its header): a local Debian bookworm base made with
debootstrap stands in for Airbyte's base image (which cannot be pulled here), the image is built
with podman from the wheels built on the host, and `spec`, `check` (good and bad keys), `discover`
and `read` run in the container against the emulator, with assertions on every output.

Cost, measured on this project's 2-core machine while other work shared it: 3.7-4.3 minutes the
first time (debootstrap 1.8-2.4 min, wheels 0.6 min, image build 0.8 min, the five commands
0.3 min), plus ~25 s of apt-get when podman is missing; 1.1-3 minutes afterwards (the base image
stays in podman's storage and its tarball and the wheels in .cache/container/).
It needs root (debootstrap, rootful podman); podman, runc and debootstrap are installed with
apt-get when missing. Where it cannot run, it is skipped and says why on the terminal. Set
CALLTRACKING_SKIP_CONTAINER_TEST=1 to leave it out of a quick local run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "container_smoke_test.sh"
TOOLS = ("podman", "runc", "debootstrap")


def why_it_cannot_run() -> Optional[str]:
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
        ["bash", str(SCRIPT)], cwd=ROOT, env={**os.environ, "PYTHON": sys.executable},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800,
    )
    elapsed = time.monotonic() - started
    output = result.stdout
    say(request, f"\n[container test] tools/container_smoke_test.sh exited {result.returncode} after {elapsed:.0f} s:\n"
                 + "\n".join("    " + line for line in output.splitlines()[-14:]))
    assert result.returncode == 0, output[-6000:]
    # The script asserts on each output itself; these lines prove each step ran and passed.
    for line in ("spec: SPEC present", "check: SUCCEEDED", "bad keys -> check: FAILED", "discover: ", "read: ",
                 "PASSED: the image built offline"):
        assert line in output, f"the smoke test printed no '{line}' line:\n{output[-6000:]}"

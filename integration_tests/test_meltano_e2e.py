"""End to end: real Meltano runs the repository's meltano.yml, `tap-calltracking` into real
`target-jsonl`, twice, against the emulator running in a background process.

Meltano and target-jsonl are installed, pinned, in venvs of their own under `.cache/meltano/`
(built once, reused). The test's Meltano project is the repository's meltano.yml with one change:
the plugins run from those venvs and the connector's `.venv/` (no `pip_url`, so Meltano installs
nothing). Credentials reach the tap only through Meltano's settings (environment variables of the
settings meltano.yml declares); the remaining config values go into the project's `config:`.
The oracle is the Airbyte source itself, read in-process by the harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from testkit.connector import assert_no_secrets_in, final_state, records_by_stream, run_discover, run_read, state_for
from testkit.emulator.world import secrets_of
from testkit.tool_venvs import ROOT, ensure_venv

pytestmark = pytest.mark.e2e

MELTANO = ["meltano==4.4.1"]
TARGET_JSONL = ["target-jsonl==0.1.4"]
CACHE = ROOT / ".cache" / "meltano"
STATE_ID = "dev:tap-calltracking-to-target-jsonl"


@pytest.fixture(scope="module")
def tool_bins():
    return ensure_venv(CACHE / "meltano", MELTANO), ensure_venv(CACHE / "target-jsonl", TARGET_JSONL)


@pytest.fixture
def background_config(tmp_path) -> Iterator[dict[str, Any]]:
    """`python -m testkit.emulator` in its own process, and the config it wrote."""
    config_file = tmp_path / "emulator_config.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "testkit.emulator", "--config-out", str(config_file)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert json.loads(process.stdout.readline())["config"] == str(config_file)  # printed once it listens
        yield json.loads(config_file.read_text())
    finally:
        process.terminate()
        process.wait(timeout=30)


def leaves(config: dict[str, Any], prefix: str = "") -> Iterator[tuple]:
    for key, value in config.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def meltano_project(directory: Path, config: dict[str, Any]) -> dict[str, str]:
    """The repository's meltano.yml in `directory`; returns the environment that carries the settings."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = project["plugins"]["extractors"][0]
    declared = {setting["name"]: setting for setting in tap["settings"]}
    env, custom = {}, {}
    for name, value in leaves(config):
        if name in declared:  # Meltano's env var for a declared setting: TAP_CALLTRACKING_<NAME with _>
            env["TAP_CALLTRACKING_" + name.upper().replace(".", "_")] = value if isinstance(value, str) else json.dumps(value)
        else:
            custom[name] = value
    for plugins in project["plugins"].values():
        for plugin in plugins:
            plugin.pop("pip_url")
    tap["config"] = custom
    project["plugins"]["loaders"][0]["config"] = {"destination_path": str(directory / "output")}
    (directory / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    return env


def meltano(directory: Path, tool_bins, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    meltano_bin, target_bin = tool_bins
    environment = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("TAP_CALLTRACKING_")
    }
    environment.update(env)
    environment.update(
        {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), str(target_bin), environment.get("PATH", "")]),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            "NO_COLOR": "1",
        }
    )
    return subprocess.run(
        [str(meltano_bin / "meltano"), *args], cwd=directory, env=environment, capture_output=True, text=True, timeout=600
    )


def jsonl_records(output: Path) -> dict[str, list]:
    return {path.stem: [json.loads(line) for line in path.read_text().splitlines()] for path in sorted(output.glob("*.jsonl"))}


def without_sync_duration(bookmarks):
    """Per-partition cursors keep `lookback_window`: the seconds the last sync took, which varies run to run."""
    return {
        name: {k: v for k, v in state.items() if k != "lookback_window"} if isinstance(state, dict) else state
        for name, state in bookmarks.items()
    }


def identities(rows, keys):
    return sorted(tuple(str(row.get(k)) for k in keys) for row in rows)


def test_meltano_run_tap_into_target_jsonl_then_incremental(tmp_path, tool_bins, background_config):
    config = background_config
    streams = {s.name: s for s in run_discover(config).catalog.catalog.streams}
    keys = {name: [path[0] for path in s.source_defined_primary_key or []] for name, s in streams.items()}
    incremental = [name for name, s in streams.items() if "incremental" in [m.value for m in s.supported_sync_modes]]
    direct = run_read(config, list(streams))
    expected = records_by_stream(direct)
    env = meltano_project(tmp_path, config)
    assert_no_secrets_in((tmp_path / "meltano.yml").read_text(), config)  # secrets only through settings

    printed = meltano(tmp_path, tool_bins, env, "config", "print", "tap-calltracking")
    assert printed.returncode == 0, printed.stderr[-3000:]
    secrets = set(secrets_of(config))  # password settings: Meltano redacts them
    assert json.loads(printed.stdout) == json.loads(
        json.dumps(config),
        object_hook=lambda block: {
            key: "*****" if isinstance(value, str) and value in secrets else value for key, value in block.items()
        },
    )

    first = meltano(tmp_path, tool_bins, env, "run", "tap-calltracking", "target-jsonl")
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    assert_no_secrets_in(first.stdout + first.stderr, config)
    written = jsonl_records(tmp_path / "output")
    assert set(written) == {name for name in streams if expected.get(name)}
    for name in streams:
        assert identities(written.get(name, []), keys[name]) == identities(expected.get(name, []), keys[name]), name

    stored = meltano(tmp_path, tool_bins, env, "state", "get", STATE_ID)
    assert stored.returncode == 0, stored.stderr[-3000:]
    bookmarks = json.loads(stored.stdout)["singer_state"]["bookmarks"]
    assert without_sync_duration(bookmarks) == without_sync_duration({name: final_state(direct, name) for name in incremental})

    oracle = records_by_stream(run_read(config, list(streams), state=state_for(bookmarks)))
    second = meltano(tmp_path, tool_bins, env, "run", "tap-calltracking", "target-jsonl")
    assert second.returncode == 0, (second.stdout + second.stderr)[-3000:]
    assert_no_secrets_in(second.stdout + second.stderr, config)
    appended = {name: rows[len(written.get(name, [])) :] for name, rows in jsonl_records(tmp_path / "output").items()}
    for name in streams:
        assert identities(appended.get(name, []), keys[name]) == identities(oracle.get(name, []), keys[name]), name
        if name in incremental and expected.get(name):
            assert len(appended.get(name, [])) < len(expected[name]), f"{name} was read in full again"
    assert sum(len(rows) for rows in appended.values()) > 0, "the lookback window re-reads some records"
    again = json.loads(meltano(tmp_path, tool_bins, env, "state", "get", STATE_ID).stdout)["singer_state"]["bookmarks"]
    assert without_sync_duration(again) == without_sync_duration(bookmarks)
    for path in (tmp_path / "output").glob("*.jsonl"):
        assert_no_secrets_in(path.read_text(), config)

"""Airbyte's standard connector tests (airbyte_cdk.test.standard_tests) against the local emulator.

The scenarios come from acceptance-test-config.yml. Their configs point at an emulator that
this module starts when pytest collects it (`get_scenarios` runs at collection): it serves every
provider of `testkit.emulator.world`, so the suite covers whatever providers the
connector has. The configs are also written to integration_tests/generated/ (gitignored), the
paths acceptance-test-config.yml names, for anyone who wants to look at them; each pytest
process hands its own emulator's config to its scenarios, so parallel workers do not collide.

The connector is the Python class `SourceCalltracking` (manifest + components + its own
`check`), not a bare manifest: `connector` is that class, and `create_connector` builds it with
the scenario's config, as the CLI does.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from boltons.typeutils import classproperty

from source_calltracking import SourceCalltracking
from testkit.emulator.world import build_world, secrets_of, world_config

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "integration_tests" / "generated"

SCALE = 0.2

_emulator = None
_configs: dict = {}


def _session_configs() -> dict:
    """Start (once per process) an emulator with every provider; return the scenario configs by file name."""
    global _emulator
    if _emulator is None:
        # A fifth of the default data: every stream still has records (basic_read requires it),
        # and the read with schema validation stays a few seconds. Paging and windows are tested
        # at full size by each provider's own tests.
        _emulator = build_world(scale=SCALE).start()
        _emulator.keep_log = False
        atexit.register(_emulator.stop)
        valid = world_config(_emulator)
        invalid = json.loads(json.dumps(valid))
        for block in invalid.values():
            if isinstance(block, dict):
                for key in ("api_key", "role_api_key", "access_token"):
                    if key in block:
                        block[key] = "0000000000000000"
        assert not set(secrets_of(invalid)) & set(secrets_of(valid))
        _configs.update({"config.json": valid, "invalid_config.json": invalid})
        GENERATED.mkdir(parents=True, exist_ok=True)
        for name, config in _configs.items():
            (GENERATED / name).write_text(json.dumps(config, indent=2))
    return _configs


@functools.cache
def _docker_engine_missing() -> str | None:
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=True)
    except (subprocess.SubprocessError, OSError):
        return "the docker CLI is installed but no Docker engine answers (`docker info` fails)"
    return None


def _skip_without_docker_engine() -> None:
    reason = _docker_engine_missing()
    if reason:
        pytest.skip(
            f"Image test skipped: {reason}. The image is built and run offline with podman by "
            "integration_tests/test_container.py (tools/container_smoke_test.sh) instead."
        )


class TestStandardSuite(SourceTestSuiteBase):
    connector = SourceCalltracking

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return ROOT

    @classproperty
    def connector_name(cls) -> str:
        # The checkout's directory name varies (worktrees, CI clones); the connector's does not.
        return "source-calltracking"

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourceCalltracking:
        # As the CLI does (run.py): the config is given to the constructor, because the streams
        # of a provider exist only when its block is in the config (ConditionalStreams).
        config = scenario.get_config_dict(connector_root=ROOT, empty_if_missing=True) if scenario else {}
        return SourceCalltracking(config=config or None)

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        configs = _session_configs()
        scenarios = super().get_scenarios()
        assert scenarios, "acceptance-test-config.yml lists no scenario"
        return [s.model_copy(update={"config_dict": configs[s.config_path.name]}) for s in scenarios]

    # ---- Docker image tests ------------------------------------------------------------------
    # The CDK skips these only when the docker CLI is missing. These machines have the CLI but
    # no engine (and cannot pull Airbyte's base image), so they are skipped when `docker info`
    # fails, and run unchanged where an engine answers.

    def test_docker_image_build_and_spec(self, connector_image_override, connector_base_image_override):
        _skip_without_docker_engine()
        super().test_docker_image_build_and_spec(connector_image_override, connector_base_image_override)

    def test_docker_image_spec_backward_compatibility(self, connector_image_override, connector_base_image_override):
        _skip_without_docker_engine()
        super().test_docker_image_spec_backward_compatibility(connector_image_override, connector_base_image_override)

    def test_docker_image_build_and_check(self, scenario, connector_image_override, connector_base_image_override):
        _skip_without_docker_engine()
        super().test_docker_image_build_and_check(scenario, connector_image_override, connector_base_image_override)

    def test_docker_image_build_and_config_matches_spec(self, scenario, connector_image_override, connector_base_image_override):
        _skip_without_docker_engine()
        super().test_docker_image_build_and_config_matches_spec(scenario, connector_image_override, connector_base_image_override)

    def test_docker_image_build_and_discover(self, scenario, connector_image_override, connector_base_image_override):
        _skip_without_docker_engine()
        super().test_docker_image_build_and_discover(scenario, connector_image_override, connector_base_image_override)

    def test_docker_image_build_and_read(
        self, scenario, connector_image_override, connector_base_image_override, read_from_streams, read_scenarios
    ):
        _skip_without_docker_engine()
        super().test_docker_image_build_and_read(
            scenario, connector_image_override, connector_base_image_override, read_from_streams, read_scenarios
        )

import pytest

from integration_tests.emulator.world import build_world, world_config


@pytest.fixture
def emulator():
    """A fresh emulated world per test, so that faults and data changes never leak between tests."""
    with build_world() as world:
        yield world


@pytest.fixture
def config(emulator):
    return world_config(emulator)

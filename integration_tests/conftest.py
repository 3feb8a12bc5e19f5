import contextlib

import pytest

from testkit.emulator.variation import session_variation
from testkit.emulator.world import build_world, world_config
from testkit.retry_waits import retry_waits  # noqa: F401  (a fixture for every test here)

# The shared bodies of the accounts tests assert as the test modules do, with pytest's messages.
pytest.register_assert_rewrite("integration_tests.accounts_helpers")


@pytest.fixture
def emulator():
    """A fresh emulated world per test, so that faults and data changes never leak between tests. Its
    servers answer as this session's seed chose (see emulator/variation.py)."""
    with build_world() as world:
        yield world


@pytest.fixture
def config(emulator):
    return world_config(emulator)


@pytest.fixture
def world_with():
    """`emulator = world_with(ckct_page_length=50)`: a started world whose servers make these choices,
    and this session's seed for the rest; stopped at the end of the test."""
    stack = contextlib.ExitStack()

    def make(**choices):
        return stack.enter_context(build_world(variation=session_variation().but(**choices)))

    with stack:
        yield make

import contextlib

import pytest

from testkit.emulator.variation import session_variation
from testkit.emulator.world import build_world


@pytest.fixture
def world():
    """A started default world whose servers answer as this session's seed chose."""
    with build_world() as started:
        yield started


@pytest.fixture
def world_with():
    """`world_with(uis_time_zone="UTC")`: a started world making these choices, this session's seed for the rest."""
    stack = contextlib.ExitStack()

    def make(**choices):
        return stack.enter_context(build_world(variation=session_variation().but(**choices)))

    with stack:
        yield make

import pytest
from airbyte_cdk.models import SyncMode

from integration_tests.uis.helpers import STREAMS, uis_config
from testkit.connector import run_read
from testkit.emulator.world import build_world

# ---- one full refresh of every stream, shared by the completeness, schema and window tests ------
# (package scope: test_reports.py, test_schema.py and test_windows.py look at the same sync, which
# runs in a world of its own that no test changes)


@pytest.fixture(scope="package")
def full_refresh():
    with build_world() as world:
        output = run_read(uis_config(world), STREAMS, sync_mode=SyncMode.full_refresh)
        yield world, output

import contextlib

import pytest

from integration_tests.destinations.postgres_server import PostgresUnavailable, running_postgres


@pytest.fixture(scope="module")
def postgres_server():
    """A real PostgreSQL server of this module's own (initdb in a temporary folder, 127.0.0.1, a free port),
    stopped and deleted after the module's last test, failed or not. Skips, saying why, where none can run."""
    stack = contextlib.ExitStack()
    try:
        server = stack.enter_context(running_postgres())
    except PostgresUnavailable as why:
        pytest.skip(f"no PostgreSQL server for the destination tests: {why}")
    with stack:
        yield server

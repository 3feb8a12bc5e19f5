# Registers Airbyte's standard-test hooks (scenario parametrization and the --connector-image,
# --read-from-streams ... options) for integration_tests/test_standard_suite.py.
import pytest

from testkit.emulator.variation import SEED_VARIABLE, session_seed, session_variation

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


def pytest_configure(config):
    session_seed()  # drawn once, before any emulator (or child process) is started


def pytest_report_header(config):
    return f"emulator seed: {SEED_VARIABLE}={session_seed()} ({session_variation().describe()})"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.sections.append(
            ("emulator seed", f"rerun with {SEED_VARIABLE}={session_seed()}: {session_variation().describe()}")
        )

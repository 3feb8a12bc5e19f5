# Registers Airbyte's standard-test hooks (scenario parametrization and the --connector-image,
# --read-from-streams ... options) for integration_tests/test_standard_suite.py.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

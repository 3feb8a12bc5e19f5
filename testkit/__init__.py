"""The testing kit: what the tests, the demo and the benchmark run against, apart from the tests.

    emulator/         a local HTTP server (127.0.0.1, random port) that answers as each vendor's
                      documents say: strict where they are specific, varied from a seed where they
                      are silent (variation.py); its fault plan (faults.py); the default world (world.py)
    connector.py      runs the connector in-process as the CLI does, and reads what it printed
    retry_waits.py    a fixture that records the CDK's retry waits instead of sleeping through them
    demo.py           ./run-demo: every provider from the emulator into DuckDB through PyAirbyte
    pyairbyte_sync.py the PyAirbyte side of the demo (runs in its own venv)
    tool_venvs.py     the pinned venvs of PyAirbyte and Meltano (built with uv, reused)

Not shipped in the wheel: pyproject.toml packages only source_calltracking.
"""

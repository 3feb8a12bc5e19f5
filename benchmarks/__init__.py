"""Benchmarks of the connector against the emulated vendor APIs: `./benchmarks/run` (see __main__.py)."""

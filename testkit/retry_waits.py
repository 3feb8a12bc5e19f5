"""Helpers the fault tests share: record the connector's retry waits instead of sleeping through them."""

from __future__ import annotations

import time
import types

import pytest
from airbyte_cdk.sources.streams.http import rate_limiting


@pytest.fixture
def retry_waits(monkeypatch) -> list[float]:
    """The waits the CDK takes between retries (the strategy's wait plus its fixed extra second),
    recorded; each is slept for only 10 ms so that a test of five retries takes no minute."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(0.01)

    monkeypatch.setattr(rate_limiting, "time", types.SimpleNamespace(sleep=sleep))
    return waits

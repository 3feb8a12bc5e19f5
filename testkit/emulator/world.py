"""The default emulated world: every vendor with deterministic data and the keys the configs use.

Tests, the README demo, the standard test suite and the benchmarks all start from here, so a
provider added to the connector is added to the emulator once, in `build_world`.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from testkit.emulator.callkeeper import default_callkeeper
from testkit.emulator.ckct import default_ckct
from testkit.emulator.ria import default_ria
from testkit.emulator.server import Emulator
from testkit.emulator.uis import default_uis
from testkit.emulator.variation import Variation, session_variation
from source_calltracking.providers import PROVIDER_KEYS

# Credentials the emulator accepts. They look like the vendors' keys but are made up.
CKCT_API_KEY = "ck7e1a9c3b5d2f40"
CKCT_ROLE_KEY = "r0le5k3y9a8b7c6d"
CALLKEEPER_API_KEY = "5b534347d4c480bee596c5d40ad4e82f"  # 32 hex digits, like the keys of the Profile tab
CALLKEEPER_STATUSES = ["200/200", "200/487"]
RIA_API_KEY = "Xq8Lw2RZt0eV5nYb7cKm3dPf9sHj4uGa6TyNzQ1r"
RIA_USER_ID = "1505029"
UIS_ACCESS_TOKEN = "u1s7k2m9q4w8e3r6t0y5a1s2d3f4g5h6j7k8l9z0"  # 40 letters and digits, like a Data API token
UIS_EXPIRED_TOKEN = "u1s0expired0000000000000000000000000000e"
UIS_BLOCKED_TOKEN = "u1s0blocked0000000000000000000000000000b"

START_DATE = "2024-01-01"
END_DATE = "2024-04-30"

PROVIDERS = PROVIDER_KEYS  # the connector's own list
# Where each provider's emulated API is served: /<vendor>/... on the emulator.
VENDOR_OF = {"callkeeper_calltracking": "ckct", "callkeeper": "callkeeper", "ria": "ria", "uis": "uis"}


def build_world(latency_seconds: float = 0.0, scale: float = 1.0, ria_hourly_limit: int = 30,
                variation: Optional[Variation] = None) -> Emulator:
    """An emulator (not started) serving every vendor; `scale` multiplies the record counts.
    `ria_hourly_limit`: RIA.com requests per key per hour (the real free plan allows about 30).
    `variation`: what the servers choose where the documents are silent (default: this session's seed)."""
    variation = variation or session_variation()
    emulator = Emulator(latency_seconds=latency_seconds)
    emulator.variation = variation
    emulator.register(
        "ckct",
        default_ckct(CKCT_API_KEY, CKCT_ROLE_KEY, own_count=int(2500 * scale), role_count=int(1200 * scale),
                     start=START_DATE, end=END_DATE + "T23:59:59", variation=variation),
    )
    emulator.register(
        "callkeeper",
        default_callkeeper(CALLKEEPER_API_KEY, calls=int(1500 * scale), tap2calls=int(300 * scale),
                           start=START_DATE, end=END_DATE + "T23:59:59", variation=variation),
    )
    emulator.register(
        "ria",
        default_ria(RIA_API_KEY, RIA_USER_ID, calls=int(1200 * scale), start=START_DATE, end=END_DATE + "T23:59:59",
                    hourly_limit=ria_hourly_limit, variation=variation),
    )
    emulator.register(
        "uis",
        default_uis(UIS_ACCESS_TOKEN, start=START_DATE, end=END_DATE + "T23:59:59", scale=scale,
                    expired_token=UIS_EXPIRED_TOKEN, blocked_token=UIS_BLOCKED_TOKEN, variation=variation),
    )
    return emulator


def provider_block(emulator: Emulator, provider: str) -> Dict[str, Any]:
    if provider == "callkeeper_calltracking":
        return {"api_key": CKCT_API_KEY, "role_api_key": CKCT_ROLE_KEY, "base_url": emulator.url("ckct") + "/api/"}
    if provider == "callkeeper":
        return {"api_key": CALLKEEPER_API_KEY, "statuses": list(CALLKEEPER_STATUSES), "base_url": emulator.url("callkeeper") + "/"}
    if provider == "ria":
        # Short quota waits: the emulator's quota is per process, and tests must not wait minutes.
        return {"api_key": RIA_API_KEY, "user_id": RIA_USER_ID, "base_url": emulator.url("ria") + "/",
                "rate_limit_wait_seconds": 0.01}
    if provider == "uis":
        return {"access_token": UIS_ACCESS_TOKEN, "base_url": emulator.url("uis")}
    raise KeyError(provider)


def world_config(emulator: Emulator, providers: Optional[Iterable[str]] = None, **overrides: Any) -> Dict[str, Any]:
    """A connector config pointing every requested provider (default: all) at the emulator."""
    config: Dict[str, Any] = {"start_date": START_DATE, "end_date": END_DATE, "lookback_window_days": 1}
    for provider in providers or PROVIDERS:
        config[provider] = provider_block(emulator, provider)
    config.update(overrides)
    return config


def secrets_of(config: Dict[str, Any]) -> list:
    """Every credential value in a config, for leak scans."""
    found = []
    for block in config.values():
        if isinstance(block, dict):
            for key in ("api_key", "role_api_key", "access_token"):
                if block.get(key):
                    found.append(str(block[key]))
    return found

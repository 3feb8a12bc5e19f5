"""The providers this connector knows: config block, display name, stream names, and the stream
`check` reads.

The one list: messages, `check`, config validation, the emulator's world and the benchmark name a
provider from here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Provider:
    config_key: str
    display_name: str
    stream_prefix: str  # every stream of the provider is named `<stream_prefix>...`
    main_stream: str
    check_stream: str
    secret_fields: tuple[str, ...]
    # Keys set in the provider's block for `check` only, to make its one request cheap.
    check_overrides: Mapping[str, Any] = field(default_factory=dict)


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "callkeeper_calltracking",
        "CallKeeper call tracking",
        "calltracking_",
        "calltracking_calls",
        "calltracking_calls",
        ("api_key", "role_api_key"),
    ),
    Provider("callkeeper", "CallKeeper", "callkeeper_", "callkeeper_calls", "callkeeper_user", ("api_key",)),
    # One request for one day, and no waiting on a used-up quota: it is about 30 requests an hour.
    Provider(
        "ria",
        "RIA.com",
        "ria_",
        "ria_calls",
        "ria_calls",
        ("api_key",),
        check_overrides={"window_days": 1, "rate_limit_retries": 0},
    ),
    # One month of daily charges: the cheapest report call (at most 31 rows).
    Provider("uis", "UIS", "uis_", "uis_calls", "uis_financial_summary", ("access_token",)),
)
PROVIDER_KEYS: tuple[str, ...] = tuple(p.config_key for p in PROVIDERS)
NO_PROVIDER_MESSAGE = (
    "No provider is configured: add at least one of the blocks callkeeper_calltracking, callkeeper, ria or uis to the config."
)

PROVIDERS_BY_KEY: Mapping[str, Provider] = {p.config_key: p for p in PROVIDERS}


def provider_of_stream(stream: str) -> Provider | None:
    return next((p for p in PROVIDERS if stream.startswith(p.stream_prefix)), None)


def configured_providers(config: Mapping) -> tuple[Provider, ...]:
    """Providers whose block is present (a non-empty object) in the config."""
    return tuple(p for p in PROVIDERS if isinstance(config.get(p.config_key), Mapping) and config.get(p.config_key))

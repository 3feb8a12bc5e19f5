"""The providers this connector knows: config block, display name, and the stream `check` reads.

Kept in one place so that messages, `check` and config validation name a provider the same way.
"""

from dataclasses import dataclass, field
from typing import Any, Mapping, Tuple


@dataclass(frozen=True)
class Provider:
    config_key: str
    display_name: str
    check_stream: str
    secret_fields: Tuple[str, ...]
    # Keys set in the provider's block for `check` only, to make its one request cheap.
    check_overrides: Mapping[str, Any] = field(default_factory=dict)


PROVIDERS: Tuple[Provider, ...] = (
    Provider("callkeeper_calltracking", "CallKeeper call tracking", "calltracking_calls", ("api_key", "role_api_key")),
    Provider("callkeeper", "CallKeeper", "callkeeper_user", ("api_key",)),
    # One request for one day, and no waiting on a used-up quota: it is about 30 requests an hour.
    Provider("ria", "RIA.com", "ria_calls", ("api_key",), check_overrides={"window_days": 1, "rate_limit_retries": 0}),
    # One month of daily charges: the cheapest report call (at most 31 rows).
    Provider("uis", "UIS", "uis_financial_summary", ("access_token",)),
)

PROVIDERS_BY_KEY: Mapping[str, Provider] = {p.config_key: p for p in PROVIDERS}


def configured_providers(config: Mapping) -> Tuple[Provider, ...]:
    """Providers whose block is present (a non-empty object) in the config."""
    return tuple(p for p in PROVIDERS if isinstance(config.get(p.config_key), Mapping) and config.get(p.config_key))

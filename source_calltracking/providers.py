"""The providers this connector knows: config block, display name, and the stream `check` reads.

Kept in one place so that messages, `check` and config validation name a provider the same way.
"""

from dataclasses import dataclass
from typing import Mapping, Tuple


@dataclass(frozen=True)
class Provider:
    config_key: str
    display_name: str
    check_stream: str
    secret_fields: Tuple[str, ...]


PROVIDERS: Tuple[Provider, ...] = (
    Provider("callkeeper_calltracking", "CallKeeper call tracking", "calltracking_calls", ("api_key", "role_api_key")),
    # One month of daily charges: the cheapest report call (at most 31 rows).
    Provider("uis", "UIS", "uis_financial_summary", ("access_token",)),
)

PROVIDERS_BY_KEY: Mapping[str, Provider] = {p.config_key: p for p in PROVIDERS}


def configured_providers(config: Mapping) -> Tuple[Provider, ...]:
    """Providers whose block is present (a non-empty object) in the config."""
    return tuple(p for p in PROVIDERS if isinstance(config.get(p.config_key), Mapping) and config.get(p.config_key))

"""Many accounts in one provider block: `{"accounts": [{"name": "Client A", "api_key": ...}, ...]}`.

An agency lists its clients' accounts in one block instead of one connection per client. Each
account holds the block's own keys plus `name`; keys set on the block itself beside `accounts`
(`base_url`, `time_zone`, `window_days`, ...) are defaults for every account. Every stream of the
block then reads one partition per account (`{"account": <name>}`, the partition key of its state),
and each request, transformation and message of that partition sees the config as the
single-account form of that account (`account_config`), so every component written for one account
serves many unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ACCOUNTS = "accounts"
# The keys an account of a block may set, which messages name as `<block>.<key>`.
ACCOUNT_KEYS = ("api_key", "role_api_key", "user_id", "time_zone", "statuses")
# The blocks that take `accounts`. UIS agencies use one partner token for many clients instead
# (`uis.user_ids`, see uis.py).
ACCOUNT_BLOCKS = ("callkeeper_calltracking", "callkeeper", "ria")


def has_accounts(block: Any) -> bool:
    return isinstance(block, Mapping) and isinstance(block.get(ACCOUNTS), list)


def with_account_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with each account of a block completed by the block's own keys (its defaults);
    nothing else changes. Applying it twice changes nothing more."""
    completed = dict(config)
    for key in ACCOUNT_BLOCKS:
        block = config.get(key)
        if has_accounts(block):
            defaults = {k: v for k, v in block.items() if k != ACCOUNTS}
            accounts = [{**defaults, **account} for account in block[ACCOUNTS] if isinstance(account, Mapping)]
            completed[key] = {**block, ACCOUNTS: accounts}
    return completed


def account_block(config: Mapping[str, Any], block: str, name: str) -> dict[str, Any]:
    """The block as one account's single form: the block's defaults, then the account's own keys."""
    section = config.get(block) or {}
    account = next((a for a in section.get(ACCOUNTS) or [] if isinstance(a, Mapping) and a.get("name") == name), None)
    if account is None:
        raise KeyError(f"{block} has no account named {name!r}")
    return {**{k: v for k, v in section.items() if k != ACCOUNTS}, **account}


def account_config(config: Mapping[str, Any], block: str, name: str) -> dict[str, Any]:
    """The whole config with `block` in the single-account form of account `name`."""
    return {**config, block: account_block(config, block, name)}


def partition_value(stream_slice: Mapping[str, Any] | None, key: str) -> Any:
    """`key` of a slice's partition, or of the partition of its parent's slice (a substream of a
    partitioned stream); None when neither has it."""
    partition = getattr(stream_slice, "partition", stream_slice)
    while isinstance(partition, Mapping):
        if partition.get(key) is not None:
            return partition[key]
        parent = partition.get("parent_slice")
        partition = getattr(parent, "partition", parent)
    return None


def account_of(stream_slice: Mapping[str, Any] | None) -> str | None:
    """The account a slice reads, or None in the single-account form."""
    name = partition_value(stream_slice, "account")
    return None if name is None else str(name)


def account_names(config: Mapping[str, Any], block: str, requires: str | None = None) -> list[str]:
    """The names of the block's accounts, in order; with `requires`, only those that set that key."""
    accounts = with_account_defaults(config).get(block, {}).get(ACCOUNTS) or []
    return [str(a["name"]) for a in accounts if not requires or a.get(requires)]


def for_account(message: str, provider_name: str, block: str | None, label: str) -> str:
    """A provider's sentence said of one account or client: "RIA.com: the API key ... Check ria.api_key."
    becomes "RIA.com, account «Dealer B»: the API key ... Check api_key of «Dealer B» in ria.accounts.".
    With no `block`, only the label is added."""
    if message.startswith(f"{provider_name}, "):
        return message  # said of its account already (a retried request's message)
    if message.startswith(f"{provider_name}:"):
        message = f"{provider_name}, {label}:" + message[len(provider_name) + 1 :]
    else:
        message = f"{provider_name}, {label}: {message}"
    if block is None:
        return message
    quoted = label.split(" ", 1)[1] if " " in label else label
    keys = "|".join(ACCOUNT_KEYS)
    return re.sub(
        rf"(?<![\w./-]){re.escape(block)}\.({keys})\b", lambda m: f"{m.group(1)} of {quoted} in {block}.{ACCOUNTS}", message
    )

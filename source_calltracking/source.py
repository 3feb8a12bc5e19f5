"""The source: the declarative manifest, plus a `check` that covers every configured provider."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteStateMessage, ConfiguredAirbyteCatalog, Status
from airbyte_cdk.sources.declarative.checks.check_stream import evaluate_availability
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking import cdk_speedups
from source_calltracking.components.accounts import (
    ACCOUNT_BLOCKS,
    account_config,
    account_names,
    for_account,
    has_accounts,
    with_account_defaults,
)
from source_calltracking.components.uis_directory import SYNC_KEY, directory
from source_calltracking.providers import NO_PROVIDER_MESSAGE, Provider, configured_providers
from source_calltracking.state import load_state

DEFAULT_TIMEOUT_SECONDS = 60


class _SplitWindowWarningFilter(logging.Filter):
    """Drops the CDK's warning that a UIS stream's `request_window_splitting` has no
    SPLIT_REQUEST_WINDOW filter: the CDK cannot see inside a CustomErrorHandler, and the UIS one
    carries it (definitions.uis.filters.too_many_rows; a test checks that it still does). Ten
    warnings a sync that are not true would teach users to ignore warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "defines `request_window_splitting` but no response filter" not in record.getMessage()


logging.getLogger("airbyte.model_to_component_factory").addFilter(_SplitWindowWarningFilter())


class SourceCalltracking(YamlDeclarativeSource):
    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
    ) -> None:
        cdk_speedups.apply()
        config = prepared_config(config) if config is not None else None
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state)
        _apply_request_timeout(self._source_config, (config or {}).get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        """The config as the user wrote it (validated and shown as such), not the prepared one the
        manifest reads (the CDK's own `configure` would hand on that)."""
        self.write_config(config, os.path.join(temp_dir, "config.json"))
        return config

    @classmethod
    def read_state(cls, state_path: str) -> list[AirbyteStateMessage]:
        return load_state(state_path) if state_path else []

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """One cheap read per configured provider -- per account, per client of a partner token --
        and every failure reported with its provider's and account's name."""
        config = prepared_config(config)
        providers = configured_providers(config)
        if not providers:
            return AirbyteConnectionStatus(status=Status.FAILED, message=NO_PROVIDER_MESSAGE)
        failures = []
        for provider in providers:
            try:
                checks = list(_single_form_checks(provider, config))
            except AirbyteTracedException as error:  # the clients of a partner token could not be listed
                failures.append(_plain(provider.display_name, error.message))
                continue
            for label, narrowed in checks:
                stream = _check_stream(provider, narrowed)
                available, reason = evaluate_availability(stream, logger)
                if not available:
                    failures.append(
                        for_account(
                            _plain(provider.display_name, reason),
                            provider.display_name,
                            provider.config_key if provider.config_key in ACCOUNT_BLOCKS else None,
                            label,
                        )
                        if label
                        else _plain(provider.display_name, reason)
                    )
        if failures:
            return AirbyteConnectionStatus(status=Status.FAILED, message=" ".join(failures))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)


def prepared_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config the manifest reads: every account completed with its block's defaults, and a key
    of this sync (see uis_directory.SYNC_KEY)."""
    prepared = with_account_defaults(config)
    prepared.setdefault(SYNC_KEY, uuid.uuid4().hex)
    return prepared


def _single_form_checks(provider: Provider, config: Mapping[str, Any]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(how messages name the account, the config of that account in the single form), for each
    account or client of the provider's block; (None, config) for the single form itself."""
    block = config[provider.config_key]
    if has_accounts(block):
        for name in account_names(config, provider.config_key):
            yield f"account «{name}»", account_config(config, provider.config_key, name)
    elif provider.config_key == "uis" and block.get("user_ids"):
        single = {k: v for k, v in block.items() if k != "user_ids"}
        for client in directory(config).clients():
            yield client.label, {**config, "uis": {**single, "user_id": client.user_id}}
    else:
        yield None, dict(config)


def _check_stream(provider: Provider, config: Mapping[str, Any]):
    """The provider's check stream, built from the config with the block's `check_overrides`."""
    narrowed = {**config, provider.config_key: {**config[provider.config_key], **provider.check_overrides}}
    return next(s for s in SourceCalltracking(config=narrowed).streams(narrowed) if s.name == provider.check_stream)


def _plain(provider_name: str, reason: str | None) -> str:
    reason = (reason or "the API did not answer as expected").strip()
    return reason if reason.startswith(provider_name) else f"{provider_name}: {reason}"


def _apply_request_timeout(node: Any, seconds: float) -> None:
    """Give every requester the configured read timeout (the manifest language takes only a constant)."""
    if isinstance(node, dict):
        if node.get("type") in ("HttpRequester", "CustomRequester"):
            node["read_timeout_in_seconds"] = seconds
            node.setdefault("connect_timeout_in_seconds", min(seconds, 30))
        for value in node.values():
            _apply_request_timeout(value, seconds)
    elif isinstance(node, list):
        for value in node:
            _apply_request_timeout(value, seconds)

"""The source: the declarative manifest, plus a `check` that covers every configured provider."""

from __future__ import annotations

import logging
from typing import Any, List, Mapping, Optional

from airbyte_cdk.models import AirbyteConnectionStatus, AirbyteStateMessage, ConfiguredAirbyteCatalog, Status
from airbyte_cdk.sources.declarative.checks.check_stream import evaluate_availability
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

from source_calltracking import cdk_speedups
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
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> None:
        cdk_speedups.apply()
        super().__init__(path_to_yaml="manifest.yaml", catalog=catalog, config=config, state=state)
        _apply_request_timeout(self._source_config, (config or {}).get("request_timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)

    @classmethod
    def read_state(cls, state_path: str) -> List[AirbyteStateMessage]:
        return load_state(state_path) if state_path else []

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """One cheap read per configured provider; the first failure is reported with its provider's name."""
        providers = configured_providers(config)
        if not providers:
            return AirbyteConnectionStatus(status=Status.FAILED, message=NO_PROVIDER_MESSAGE)
        streams = {stream.name: stream for stream in self.streams(config)}
        for provider in providers:
            stream = streams[provider.check_stream]
            if provider.check_overrides:
                stream = _check_stream_with_overrides(provider, config)
            available, reason = evaluate_availability(stream, logger)
            if not available:
                return AirbyteConnectionStatus(status=Status.FAILED, message=_plain(provider.display_name, reason))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)


def _check_stream_with_overrides(provider: Provider, config: Mapping[str, Any]):
    """The provider's check stream built from a config whose block carries `check_overrides`."""
    narrowed = {**config, provider.config_key: {**config[provider.config_key], **provider.check_overrides}}
    return next(s for s in SourceCalltracking(config=narrowed).streams(narrowed) if s.name == provider.check_stream)


def _plain(provider_name: str, reason: Optional[str]) -> str:
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

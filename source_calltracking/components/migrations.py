"""State saved by earlier versions, brought to this version's cursors.

0.2.0 reads RIA.com and UIS by `event_time_utc` (a UTC instant) instead of the API's own local
times, and keeps one state per account or client in the `accounts`/`user_ids` forms. Each class
here turns one older shape into the new one; a test feeds each a state written by version 0.1.x.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.types import Config

from source_calltracking.components.zones import EVENT_TIME_FIELD, clock, utc_text

logger = logging.getLogger("airbyte")

PER_PARTITION_KEY = "states"
GLOBAL_KEY = "state"


@dataclass
class CursorToEventTimeUtc(StateMigration):
    """`{"<old cursor>": "2024-04-30 12:00:00"}` (the API's local time, or a day) becomes
    `{"event_time_utc": "…Z"}`, early enough that nothing read after it is skipped.

    `$parameters.old_cursor_field` (else `event_time_field`): the former cursor. A day D (RIA.com) becomes the first moment of D
    in `$parameters.time_zone_key` of the block (its default `$parameters.default_time_zone`). A local
    date-time of a zone the state does not record (UIS: the account's zone, which 0.1.x did not ask)
    becomes that time read as UTC minus `$parameters.margin_hours` (14: no zone is further ahead).
    The state of a substream (`state` and the parents' `parent_state`) is migrated the same way.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._old = parameters.get("old_cursor_field") or parameters["event_time_field"]
        self._margin = dt.timedelta(hours=float(parameters.get("margin_hours") or 0))
        block = self.config.get(parameters.get("config_block") or "") or {}
        self._zone = (
            (parameters.get("time_zone_key") and block.get(parameters["time_zone_key"]))
            or parameters.get("default_time_zone")
            or "UTC"
        )

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return self._migrated(stream_state) != dict(stream_state or {})

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        migrated = self._migrated(stream_state)
        logger.info(
            f"State of version 0.1: cursor `{self._old}` {stream_state.get(self._old, '(nested)')} is now "
            f"{EVENT_TIME_FIELD} {migrated.get(EVENT_TIME_FIELD, '(nested)')}."
        )
        return migrated

    def _migrated(self, state: Mapping[str, Any] | None) -> dict[str, Any]:
        state = dict(state or {})
        if PER_PARTITION_KEY in state:
            return state  # already of the accounts form
        if self._old in state and EVENT_TIME_FIELD not in state:
            moment = self._moment(state.pop(self._old))
            if moment is not None:
                state[EVENT_TIME_FIELD] = utc_text(moment)
        if isinstance(state.get(GLOBAL_KEY), Mapping):
            state[GLOBAL_KEY] = self._migrated(state[GLOBAL_KEY])
        if isinstance(state.get("parent_state"), Mapping):
            state["parent_state"] = {
                name: self._migrated(parent) if isinstance(parent, Mapping) else parent
                for name, parent in state["parent_state"].items()
            }
        return state

    def _moment(self, value: Any) -> dt.datetime | None:
        text = str(value).strip()
        if len(text) == 10:
            return clock(self._zone).utc(text + " 00:00:00")
        moment = clock("UTC").utc(text)
        return None if moment is None else moment - self._margin


@dataclass
class EveryAccountFromItsOwnState(StateMigration):
    """In the `accounts`/`user_ids` forms, an account or client without a state of its own starts from
    `start_date`.

    The CDK starts a partition it has no state for from the stream's global cursor (`state`, the
    latest of all partitions): an account added to the list would start where the others are and
    lose its history. So the global cursor is dropped, and a state of the single-account form (no
    `states`) is not applied to every account: each account then reads from `start_date` once.
    """

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return bool(stream_state) and (
            PER_PARTITION_KEY not in stream_state
            or GLOBAL_KEY in stream_state
            or any(_has_global(p) for p in (stream_state.get("parent_state") or {}).values())
        )

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        if PER_PARTITION_KEY not in stream_state and "parent_state" not in stream_state:
            logger.info("The saved state is of the single-account form; every account reads from start_date once.")
            return {}
        return _without_global(stream_state)


def _has_global(state: Any) -> bool:
    return isinstance(state, Mapping) and PER_PARTITION_KEY in state and GLOBAL_KEY in state


def _without_global(state: Mapping[str, Any]) -> dict[str, Any]:
    kept = dict(state)
    if PER_PARTITION_KEY in kept:
        kept.pop(GLOBAL_KEY, None)
        kept.pop("lookback_window", None)
    if isinstance(kept.get("parent_state"), Mapping):
        kept["parent_state"] = {
            name: _without_global(p) if isinstance(p, Mapping) else p for name, p in kept["parent_state"].items()
        }
    return kept

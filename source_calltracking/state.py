"""Reading the saved state: clear messages for a broken state, and the platform's legacy format.

The CDK fails on a broken state file with "Something went wrong". Users need to know that the
state, not their data or keys, is the problem, and what to do: reset it (or drop --state).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

WHAT_TO_DO = "Reset the connection's state in Airbyte (or run without --state) to sync again from start_date."
# Keys of the CDK's own state bookkeeping, whose values are not cursor values.
BOOKKEEPING_KEYS = {"state_type", "use_global_cursor", "lookback_window", "parent_state", "partition", "slices"}


def load_state(state_path: str) -> list[AirbyteStateMessage]:
    try:
        raw = json.loads(Path(state_path).read_text())
    except (OSError, ValueError) as error:
        raise _broken(f"the state file is not valid JSON ({error.__class__.__name__}).") from None
    if not raw:
        return []
    if isinstance(raw, Mapping):  # the platform's legacy format: {stream name: stream state}
        if not all(isinstance(value, Mapping) for value in raw.values()):
            raise _broken("it is neither a list of state messages nor a {stream: state} object.")
        raw = [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}}
            for name, value in raw.items()
        ]
    if not isinstance(raw, list):
        raise _broken("it must be a list of state messages.")
    messages = []
    for index, item in enumerate(raw):
        try:
            messages.append(AirbyteStateMessageSerializer.load(item))
        except Exception:
            raise _broken(f"entry {index + 1} is not a state message.") from None
    for index, message in enumerate(messages):
        stream = message.stream
        if stream is None and message.global_ is None and message.data is None:
            raise _broken(f"entry {index + 1} is not a state message (no stream, global or data).")
        if stream is None or stream.stream_descriptor is None:
            continue
        state = stream.stream_state.__dict__ if stream.stream_state is not None else {}
        for key, value in _cursor_values(state):
            if not _is_moment(value):
                raise _broken(f"the cursor `{key}` of stream {stream.stream_descriptor.name} is not a date-time ({value!r}).")
    return messages


def _cursor_values(state: Mapping[str, Any]) -> Iterator[tuple]:
    for key, value in state.items():
        if key in BOOKKEEPING_KEYS:
            continue
        if isinstance(value, Mapping):
            yield from _cursor_values(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from _cursor_values(item)
        elif isinstance(value, str):
            yield key, value


def _is_moment(value: str) -> bool:
    text = value.strip()
    if text.isdigit():
        return True
    for candidate in (text.replace(" ", "T").replace("Z", "+00:00"), text):
        try:
            dt.datetime.fromisoformat(candidate)
            return True
        except ValueError:
            continue
    return False


def _broken(reason: str) -> AirbyteTracedException:
    return AirbyteTracedException(
        message=f"The saved state could not be used: {reason} {WHAT_TO_DO}",
        internal_message=reason,
        failure_type=FailureType.config_error,
    )

"""Config checks that say, in one plain message, which field is wrong and how to fix it.

Runs before every command that takes a config (check, discover, read), in place of the CDK's
bare JSON-schema check whose messages do not name the field ("'a' is not of type 'integer'").
Secret values are never echoed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from source_calltracking.components.accounts import ACCOUNTS
from source_calltracking.providers import NO_PROVIDER_MESSAGE, PROVIDER_KEYS

SECRET_FIELDS = {"api_key", "role_api_key", "access_token"}
TYPE_WORDS = {
    "integer": "a whole number",
    "string": "text",
    "object": "a block of settings ({...})",
    "array": "a list",
    "boolean": "true or false",
    "number": "a number",
}
STATUS_PAIR = re.compile(r"^\d{1,3}/\d{1,3}$")


def validate_config(config: Any, spec_schema: Mapping[str, Any]) -> None:
    problems = list(_problems(config, spec_schema))
    if problems:
        raise AirbyteTracedException(
            message="The config is not valid: " + " ".join(problems),
            internal_message="config validation failed",
            failure_type=FailureType.config_error,
        )


def _problems(config: Any, spec_schema: Mapping[str, Any]) -> Iterator[str]:
    if not isinstance(config, Mapping):
        yield "it must be a JSON object."
        return
    schema_problems = sorted(Draft7Validator(spec_schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    yield from dict.fromkeys(_describe(error, spec_schema) for error in schema_problems)
    if schema_problems:
        return  # the checks below assume the types are right
    yield from _unknown_keys(config, spec_schema)
    yield from _dates(config)
    if not any(isinstance(config.get(key), Mapping) and config.get(key) for key in PROVIDER_KEYS):
        yield NO_PROVIDER_MESSAGE
    for key, block in config.items():
        if isinstance(block, Mapping) and key in PROVIDER_KEYS:
            yield from _single_or_accounts(key, block)
            yield from _provider_block(key, block)
            for index, account in enumerate(block.get(ACCOUNTS) or []):
                if isinstance(account, Mapping):
                    yield from _provider_block(f"{key}.{ACCOUNTS}[{index + 1}]", account)


def _field(path: list[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the config"


def _describe(error: ValidationError, spec_schema: Mapping[str, Any]) -> str:
    path = list(error.absolute_path)
    name = _field(path)
    secret = bool(path) and path[-1] in SECRET_FIELDS
    got = "" if secret else f" (got {error.instance!r})"
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"`{_field(path + missing[:1])}` is required."
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"`{name}` must be {' or '.join(TYPE_WORDS.get(t, t) for t in wanted)}{got}."
    if error.validator == "pattern":
        hint = error.schema.get("pattern_descriptor") or f"the pattern {error.validator_value}"
        return f"`{name}` must look like {hint}{got}."
    if error.validator == "minLength":
        return f"`{name}` must not be empty."
    if error.validator in ("minimum", "maximum"):
        return f"`{name}` must be {'at least' if error.validator == 'minimum' else 'at most'} {error.validator_value}{got}."
    if error.validator == "additionalProperties":
        extra = (
            sorted(set(error.instance) - set(error.schema.get("properties", {}))) if isinstance(error.instance, Mapping) else []
        )
        return (
            " ".join(f"`{_field(path + [k])}` is not a setting of this connector (check its spelling)." for k in extra)
            or f"`{name}`: {error.message}."
        )
    if error.validator == "oneOf" and path and path[-1] == "user_ids":
        return f'`{name}` must be a list of client user ids (whole numbers) or "all"{got}.'
    if error.validator == "enum":
        return f"`{name}` must be one of {', '.join(map(str, error.validator_value))}{got}."
    return f"`{name}`: {error.message if not secret else 'invalid value'}."


def _unknown_keys(config: Mapping[str, Any], spec_schema: Mapping[str, Any]) -> Iterator[str]:
    known = spec_schema.get("properties", {})
    for key, value in config.items():
        if key.startswith("__"):
            continue  # keys the Airbyte platform adds
        if key not in known:
            yield f"`{key}` is not a setting of this connector (check its spelling)."
        elif isinstance(value, Mapping) and "properties" in known[key]:
            for inner in value:
                if inner not in known[key]["properties"]:
                    yield f"`{key}.{inner}` is not a setting of this connector (check its spelling)."


def _parse_moment(value: str, end_of_day: bool = False) -> dt.datetime:
    """The UTC instant a `start_date`/`end_date` names. An `end_date` given as a date is the last second of
    that day, as the read uses it (manifest.yaml `shared.end_datetime`: `end_date ~ 'T23:59:59Z'`) and as the
    spec says ("a date (that whole day is included)"): so `start_date` 2024-04-30T19:00:00Z with `end_date`
    2024-04-30 is a valid range of five hours, not an end before the start (it was refused as such, found by
    integration_tests/test_time_zones.py splitting a range at Yekaterinburg's midnight, 19:00 UTC)."""
    value = value.strip().replace(" ", "T")
    if len(value) == 10:
        value += "T23:59:59" if end_of_day else "T00:00:00"
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _dates(config: Mapping[str, Any]) -> Iterator[str]:
    moments = {}
    for key in ("start_date", "end_date"):
        value = config.get(key)
        if not value:
            continue
        try:
            moments[key] = _parse_moment(value, end_of_day=key == "end_date")
        except ValueError:
            yield f"`{key}` is not a real date ({value!r})."
    if "start_date" in moments and "end_date" in moments and moments["end_date"] < moments["start_date"]:
        yield f"`end_date` ({config['end_date']}) is before `start_date` ({config['start_date']})."
    if "start_date" in moments and moments["start_date"] > dt.datetime.now(dt.UTC):
        yield f"`start_date` ({config['start_date']}) is in the future."


# The keys that say whose data a block reads: in the block itself (one account) or in each of its
# `accounts` (many), never both.
OWN_KEYS = {"callkeeper_calltracking": ("api_key",), "callkeeper": ("api_key",), "ria": ("api_key", "user_id")}


def _single_or_accounts(key: str, block: Mapping[str, Any]) -> Iterator[str]:
    own = OWN_KEYS.get(key)
    if own is None:  # uis: one token, one client or many
        if block.get("user_id") is not None and block.get("user_ids") not in (None, []):
            yield "`uis.user_id` and `uis.user_ids` are both set: use `user_id` for one client, `user_ids` for several."
        if not block.get("access_token"):
            yield "`uis.access_token` is required."
        return
    accounts = block.get(ACCOUNTS)
    if accounts is None:
        for name in own:
            if not block.get(name):
                yield f"`{key}.{name}` is required (for several accounts, list them in `{key}.{ACCOUNTS}` instead)."
        return
    both = [name for name in own if block.get(name)]
    if both:
        yield (
            f"`{key}` has both {' and '.join(f'`{n}`' for n in both)} and `{ACCOUNTS}`: put the keys of every account "
            f"in `{key}.{ACCOUNTS}`, or remove the list."
        )
    names = [a.get("name") for a in accounts if isinstance(a, Mapping)]
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    if repeated:
        yield f"`{key}.{ACCOUNTS}` names {', '.join(repr(n) for n in repeated)} more than once: each account needs its own name."


def _provider_block(key: str, block: Mapping[str, Any]) -> Iterator[str]:
    for secret in SECRET_FIELDS & set(block):
        if isinstance(block[secret], str) and block[secret].strip() != block[secret]:
            yield f"`{key}.{secret}` has spaces around it; paste the key without them."
    base_url = block.get("base_url")
    if isinstance(base_url, str) and base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            yield f"`{key}.base_url` must be an http(s) URL such as https://host/path (got {base_url!r})."
    time_zone = block.get("time_zone")
    if isinstance(time_zone, str) and time_zone:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            yield f"`{key}.time_zone` must be an IANA time zone such as Europe/Moscow (got {time_zone!r})."
    statuses = block.get("statuses")
    if isinstance(statuses, list):
        bad = [s for s in statuses if not (isinstance(s, str) and STATUS_PAIR.match(s))]
        if bad or not statuses:
            yield (
                f'`{key}.statuses` must list status pairs like "200/200" (status_code/status2_code)'
                + (f"; these are not: {bad!r}." if bad else "; the list is empty.")
            )

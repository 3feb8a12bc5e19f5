"""Malformed configs: each gives one plain message naming the field, never a traceback or a secret."""

import json

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking import SourceCalltracking
from source_calltracking.config_validation import validate_config

SPEC = SourceCalltracking().spec(logger=None).connectionSpecification
GOOD = {"start_date": "2024-01-01", "callkeeper_calltracking": {"api_key": "a1b2c3d4e5f6g7h8"}}


def with_(**changes):
    config = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        target, _, inner = key.partition("__")
        if inner:
            if value is None:
                config[target].pop(inner, None)
            else:
                config[target][inner] = value
        elif value is None:
            config.pop(target, None)
        else:
            config[target] = value
    return config


CASES = [
    ("missing start_date", with_(start_date=None), "`start_date` is required."),
    ("malformed start_date", with_(start_date="01.02.2024"), "`start_date` must look like YYYY-MM-DD"),
    ("impossible start_date", with_(start_date="2024-02-31"), "`start_date` is not a real date ('2024-02-31')."),
    ("start_date in the future", with_(start_date="2999-01-01"), "`start_date` (2999-01-01) is in the future."),
    ("end before start", with_(end_date="2023-12-31"), "`end_date` (2023-12-31) is before `start_date` (2024-01-01)."),
    ("no provider block", with_(callkeeper_calltracking=None), "No provider is configured"),
    (
        "empty provider block",
        with_(callkeeper_calltracking={}),
        "`callkeeper_calltracking.api_key` is required "
        "(for several accounts, list them in `callkeeper_calltracking.accounts` instead).",
    ),
    ("empty key", with_(callkeeper_calltracking__api_key=""), "`callkeeper_calltracking.api_key` must not be empty."),
    (
        "key with spaces",
        with_(callkeeper_calltracking__api_key=" a1b2c3d4e5f6g7h8 "),
        "`callkeeper_calltracking.api_key` has spaces around it",
    ),
    ("wrong type of key", with_(callkeeper_calltracking__api_key=12345), "`callkeeper_calltracking.api_key` must be text."),
    ("wrong type of lookback", with_(lookback_window_days="two"), "`lookback_window_days` must be a whole number (got 'two')."),
    ("negative lookback", with_(lookback_window_days=-1), "`lookback_window_days` must be at least 0 (got -1)."),
    (
        "provider block not an object",
        with_(callkeeper_calltracking="key"),
        "`callkeeper_calltracking` must be a block of settings",
    ),
    ("unknown top-level key", with_(start_dat="2024-01-01"), "`start_dat` is not a setting of this connector"),
    ("unknown key in a block", with_(callkeeper_calltracking__apikey="x"), "`callkeeper_calltracking.apikey` is not a setting"),
    ("bad base_url", with_(callkeeper_calltracking__base_url="ckct.ru/api"), "`callkeeper_calltracking.base_url` must look like"),
    (
        "base_url without host",
        with_(callkeeper_calltracking__base_url="https://"),
        "`callkeeper_calltracking.base_url` must be an http(s) URL",
    ),
    ("concurrency too high", with_(concurrency_level=100), "`concurrency_level` must be at most 16 (got 100)."),
    ("not an object", ["start_date"], "it must be a JSON object."),
    (
        "accounts beside the block's own key",
        with_(callkeeper_calltracking__accounts=[{"name": "A", "api_key": "k1k1k1k1k1k1k1k1"}]),
        "`callkeeper_calltracking` has both `api_key` and `accounts`",
    ),
    (
        "an account without its key",
        {**with_(callkeeper_calltracking=None), "ria": {"accounts": [{"name": "A", "user_id": "1"}]}},
        "`ria.accounts[1].api_key` is required.",
    ),
    (
        "two accounts of one name",
        {
            **with_(callkeeper_calltracking=None),
            "callkeeper": {"accounts": [{"name": "Shop", "api_key": "a" * 32}, {"name": "Shop", "api_key": "b" * 32}]},
        },
        "`callkeeper.accounts` names 'Shop' more than once",
    ),
    (
        "an unknown key in an account",
        {
            **with_(callkeeper_calltracking=None),
            "callkeeper": {"accounts": [{"name": "Shop", "api_key": "a" * 32, "timezone": "Europe/Moscow"}]},
        },
        "`callkeeper.accounts[1].timezone` is not a setting of this connector",
    ),
    (
        "an account's unknown time zone",
        {
            **with_(callkeeper_calltracking=None),
            "ria": {"accounts": [{"name": "A", "api_key": "k", "user_id": "1", "time_zone": "Europe/Kiev2"}]},
        },
        "`ria.accounts[1].time_zone` must be an IANA time zone",
    ),
    (
        "a RIA.com block without user_id",
        {**with_(callkeeper_calltracking=None), "ria": {"api_key": "k"}},
        "`ria.user_id` is required (for several accounts, list them in `ria.accounts` instead).",
    ),
    (
        "user_ids neither a list nor all",
        {**with_(callkeeper_calltracking=None), "uis": {"access_token": "t", "user_ids": "every"}},
        '`uis.user_ids` must be a list of client user ids (whole numbers) or "all"',
    ),
    (
        "user_id beside user_ids",
        {**with_(callkeeper_calltracking=None), "uis": {"access_token": "t", "user_id": 5, "user_ids": [5, 6]}},
        "`uis.user_id` and `uis.user_ids` are both set",
    ),
]


@pytest.mark.parametrize("name,config,expected", CASES, ids=[c[0] for c in CASES])
def test_malformed_config_gives_one_plain_message_naming_the_field(name, config, expected):
    with pytest.raises(AirbyteTracedException) as raised:
        validate_config(config, SPEC)
    error = raised.value
    assert error.failure_type.value == "config_error"
    assert error.message.startswith("The config is not valid: ")
    assert expected in error.message
    assert "Traceback" not in error.message
    assert "a1b2c3d4e5f6g7h8" not in error.message and "12345" not in error.message


def test_a_good_config_passes():
    validate_config(GOOD, SPEC)
    validate_config(with_(start_date="2024-01-01T10:00:00Z", end_date="2024-02-01", lookback_window_days=0), SPEC)


def test_platform_keys_are_not_unknown_settings():
    validate_config(dict(GOOD, __injected_declarative_manifest={}), SPEC)

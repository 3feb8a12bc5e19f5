"""UIS / CoMagic Data API against its emulator: discover, spec, and check (one cheap request; the cause
of a failure in plain words)."""

import pytest
from airbyte_cdk.models import Status

from integration_tests.uis.helpers import CURSORS, PRIMARY_KEYS, STREAMS, bodies, uis, uis_config
from testkit.connector import connection_status, run_check, run_discover
from testkit.emulator.world import UIS_BLOCKED_TOKEN, UIS_EXPIRED_TOKEN


def test_discover_declares_keys_cursors_and_modes(emulator):
    streams = {s.name: s for s in run_discover(uis_config(emulator)).catalog.catalog.streams}
    assert set(streams) == set(STREAMS)
    for name, stream in streams.items():
        assert stream.source_defined_primary_key == [[k] for k in PRIMARY_KEYS[name]], name
        modes = {m.value for m in stream.supported_sync_modes}
        if name in CURSORS:
            assert stream.default_cursor_field == [CURSORS[name]], name
            assert modes == {"full_refresh", "incremental"}, name
        else:
            assert modes == {"full_refresh"}, name


def test_spec_offers_the_uis_block():
    import logging

    from source_calltracking import SourceCalltracking

    spec = SourceCalltracking().spec(logging.getLogger()).connectionSpecification["properties"]["uis"]
    assert spec["required"] == ["access_token"]
    assert spec["properties"]["access_token"]["airbyte_secret"] is True
    assert spec["properties"]["user_id"]["type"] == "integer"
    assert spec["properties"]["base_url"]["default"] == "https://dataapi.uiscom.ru"
    assert set(spec["properties"]["base_url"]["examples"]) == {
        "https://dataapi.uiscom.ru",
        "https://dataapi.comagic.ru",
        "https://dataapi.callgear.com",
    }


def test_check_succeeds_with_one_cheap_request_and_any_base_url_form(emulator):
    config = uis_config(emulator)
    config["uis"]["base_url"] += "/"
    assert connection_status(run_check(config)).status == Status.SUCCEEDED
    sent = bodies(emulator)
    # One report request; since 0.2.0 its record's event_time_utc needs the account's zone: get.account, once.
    assert [b["method"] for b in sent] == ["get.financial_summary_report", "get.account"]
    assert (sent[0]["params"]["year"], sent[0]["params"]["month"]) == (2024, 1)


@pytest.mark.parametrize(
    "setup, expected",
    [
        ("bad_token", "UIS: the access token is invalid (access_token_invalid). Check uis.access_token"),
        ("expired_token", "UIS: the access token has expired (access_token_expired)."),
        ("blocked_token", "UIS: the access token is blocked (access_token_blocked)."),
        (
            "ip",
            "UIS: the IP address the connector runs from is not on the account's list of allowed addresses (ip_not_whitelisted).",
        ),
        ("inactive", "UIS: the account is inactive (account_inactive)."),
        ("disabled", "UIS: the account's plan does not include get.financial_summary_report (method_component_disabled)."),
    ],
)
def test_check_names_the_cause_in_plain_words(emulator, setup, expected):
    config = uis_config(emulator)
    vendor = uis(emulator)
    if setup == "bad_token":
        config["uis"]["access_token"] = "notatoken0000000000000000000000000000000"
    elif setup == "expired_token":
        config["uis"]["access_token"] = UIS_EXPIRED_TOKEN
    elif setup == "blocked_token":
        config["uis"]["access_token"] = UIS_BLOCKED_TOKEN
    elif setup == "ip":
        vendor.ip_whitelisted = False
    elif setup == "inactive":
        vendor.accounts[0].active = False
    else:
        vendor.disabled_methods = {"get.financial_summary_report"}
    status = connection_status(run_check(config))
    assert status.status == Status.FAILED
    assert status.message.startswith(expected), status.message
    assert "(The API said: " in status.message

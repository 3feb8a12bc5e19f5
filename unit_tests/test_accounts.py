"""Many accounts in one block: defaults, the single-account view of each account, and messages."""

from airbyte_cdk.sources.types import StreamSlice

from source_calltracking.components.accounts import (
    account_config,
    account_names,
    account_of,
    for_account,
    partition_value,
    with_account_defaults,
)

CONFIG = {
    "start_date": "2024-01-01",
    "ria": {
        "time_zone": "Europe/Kyiv",
        "window_days": 10,
        "accounts": [
            {"name": "Dealer A", "api_key": "ka", "user_id": "1"},
            {"name": "Dealer B", "api_key": "kb", "user_id": "2", "time_zone": "Europe/Warsaw"},
        ],
    },
    "callkeeper": {
        "statuses": ["200/200"],
        "accounts": [{"name": "X", "api_key": "x"}, {"name": "Y", "api_key": "y", "statuses": []}],
    },
}


def test_the_block_keys_beside_the_list_are_every_account_defaults_and_an_account_key_wins():
    completed = with_account_defaults(CONFIG)
    a, b = completed["ria"]["accounts"]
    assert a == {"name": "Dealer A", "api_key": "ka", "user_id": "1", "time_zone": "Europe/Kyiv", "window_days": 10}
    assert b["time_zone"] == "Europe/Warsaw" and b["window_days"] == 10
    assert with_account_defaults(completed) == completed  # twice changes nothing more
    assert CONFIG["ria"]["accounts"][0] == {"name": "Dealer A", "api_key": "ka", "user_id": "1"}  # the input is left alone


def test_an_account_is_seen_as_the_single_form_of_its_block():
    view = account_config(CONFIG, "ria", "Dealer B")
    assert view["ria"] == {"time_zone": "Europe/Warsaw", "window_days": 10, "name": "Dealer B", "api_key": "kb", "user_id": "2"}
    assert view["start_date"] == "2024-01-01" and view["callkeeper"] is CONFIG["callkeeper"]


def test_account_names_can_require_a_key_after_the_defaults():
    assert account_names(CONFIG, "ria") == ["Dealer A", "Dealer B"]
    assert account_names(CONFIG, "callkeeper", requires="statuses") == ["X"]  # Y sets an empty list of its own


def test_the_account_of_a_slice_is_found_in_its_partition_or_its_parents():
    assert account_of(StreamSlice(partition={"account": "Dealer A"}, cursor_slice={"start_time": "x"})) == "Dealer A"
    child = StreamSlice(partition={"chat_id": 7, "parent_slice": {"user_id": 103}}, cursor_slice={})
    assert partition_value(child, "user_id") == 103
    assert account_of(StreamSlice(partition={}, cursor_slice={})) is None and account_of(None) is None


def test_a_message_is_said_of_its_account_and_points_at_the_accounts_list():
    message = for_account(
        "RIA.com: the API key is disabled (API_KEY_DISABLED: see https://developers.ria.com). Check ria.api_key.",
        "RIA.com",
        "ria",
        "account «Dealer B»",
    )
    assert message == (
        "RIA.com, account «Dealer B»: the API key is disabled (API_KEY_DISABLED: see https://developers.ria.com). "
        "Check api_key of «Dealer B» in ria.accounts."
    )
    assert for_account(message, "RIA.com", "ria", "account «Dealer B»") == message  # said once, however often it is re-raised
    assert (
        for_account("UIS: the user may not call get.calls_report (forbidden).", "UIS", None, "client «Shop» (user_id 103)")
        == "UIS, client «Shop» (user_id 103): the user may not call get.calls_report (forbidden)."
    )

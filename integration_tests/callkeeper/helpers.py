"""What the tests of the CallKeeper REST API (api.callkeeper.ru) share: its streams and methods, the
calls its emulator holds, a config of the provider, and the parameters of a request."""

from urllib.parse import parse_qs

from testkit.emulator.world import CALLKEEPER_STATUSES, world_config

WINDOWED = {
    "callkeeper_calls": "getCallsInfo",
    "callkeeper_completed_calls": "getCallsCompleted",
    "callkeeper_calls_by_status": "getCallsByStatus",
    "callkeeper_tap2calls": "getT2C",
}
ALL_STREAMS = [*WINDOWED, "callkeeper_user"]
START, END = "2024-01-01T00:00:00", "2024-04-30T23:59:59"


def vendor(emulator):
    return emulator.vendors["callkeeper"]


def ck_config(emulator, **block):
    config = world_config(emulator, ["callkeeper"])
    config["callkeeper"].update(block)
    return config


def held_ids(emulator, stream, since=START, until=END):
    statuses = CALLKEEPER_STATUSES if stream == "callkeeper_calls_by_status" else ()
    return vendor(emulator).call_ids(WINDOWED[stream], since, until, statuses)


def params_of(request):
    return {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}

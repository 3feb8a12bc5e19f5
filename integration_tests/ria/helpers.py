"""What the tests of RIA.com calls_stat share: its stream, a config of the provider, the parameters
and windows of its requests, the ids a sync read, and the sentence of a used-up quota."""

from urllib.parse import parse_qs

from testkit.emulator.world import world_config

STREAM = "ria_calls"
QUOTA_MESSAGE = (
    "RIA.com: the API quota for this key is used up (OVER_RATE_LIMIT){after}. Run the sync again later (the quota is "
    "about 30 requests an hour per key); the calls read so far are kept in the state, and a larger ria.window_days "
    "spends fewer requests."
)


def vendor(emulator):
    return emulator.vendors["ria"]


def ria_config(emulator, **block):
    config = world_config(emulator, ["ria"])
    config["ria"].update(block)
    return config


def params_of(request):
    return {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


def windows(emulator, status=200):
    return sorted((params_of(r)["from"], params_of(r)["to"]) for r in emulator.requests_to("ria") if r.status == status)


def ids(output):
    return sorted(r.record.data["call_id"] for r in output.records)

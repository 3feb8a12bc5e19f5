"""A `Retry-After` the server sends is obeyed, by every provider, before any wait of the connector's own.

Regression: RIA.com answered HTTP 429 with `Retry-After: 1`, and the connector waited its quota
backoff instead (61 s, then 121 s): one sync with two such answers took three minutes where four
seconds would have done. The quota wait is only for an OVER_RATE_LIMIT without a Retry-After.
"""

import pytest

from integration_tests.uis.helpers import reports_only
from testkit.connector import error_messages, run_read
from testkit.emulator.faults import Fault
from testkit.emulator.ria import error_response
from testkit.emulator.server import Response
from testkit.emulator.world import world_config

# provider: (emulator vendor, main stream, the 429 body the vendor would send)
PROVIDERS = {
    "ria": ("ria", "ria_calls", error_response("OVER_RATE_LIMIT").body),
    "uis": ("uis", "uis_calls", b'{"jsonrpc":"2.0","id":1,"error":{"code":-32029,"message":"Too many requests"}}'),
    "callkeeper": ("callkeeper", "callkeeper_calls", b'{"status":"fail","reason":"Too many requests"}'),
    "callkeeper_calltracking": ("ckct", "calltracking_calls", b"Too Many Requests"),
}


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_retry_after_from_the_server_is_the_wait(emulator, retry_waits, provider):
    vendor, stream, body = PROVIDERS[provider]
    config = world_config(emulator, [provider], end_date="2024-02-29")
    config[provider].pop("rate_limit_wait_seconds", None)  # RIA.com's own quota wait at its default, 60 s
    fault = emulator.faults.add(Fault(vendor, "response", times=2, response=Response(429, body, headers={"Retry-After": "1"})))
    if provider == "uis":  # the stream's requests (get.account, asked first, retries in a loop of its own)
        fault.match = reports_only
    output = run_read(config, [stream])
    assert not output.errors, error_messages(output)
    assert fault.times == 0, "the 429 answers were not sent"
    assert output.records, "the stream read nothing"
    assert retry_waits == [2, 2], "Retry-After (1 s) is the wait, plus the CDK's extra second"

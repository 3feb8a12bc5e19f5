"""Plain HTTP calls to the started emulator, as a client of the vendors' APIs would make them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def rpc(world, method: str, version: str = "v2.0", **params: Any) -> dict[str, Any]:
    """One UIS JSON-RPC call; the whole answer (`result` or `error`). Every UIS answer is HTTP 200."""
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).encode()
    request = urllib.request.Request(f"{world.url('uis')}/{version}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
        return json.loads(response.read())


def rpc_error(world, method: str, **params: Any) -> dict[str, Any]:
    answer = rpc(world, method, **params)
    assert "error" in answer and "result" not in answer, answer
    return answer["error"]


def rpc_result(world, method: str, **params: Any) -> dict[str, Any]:
    answer = rpc(world, method, **params)
    assert "result" in answer, answer
    return answer["result"]


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ckct_records(world, key: str, method: str, since: str, until: str) -> list[dict]:
    """Every call of a ckct.ru window, page after page until the server says there are no more."""
    records: list[dict] = []
    for page in range(100_000):
        status, body = get(f"{world.url('ckct')}/api/?json/v3/{key}/call/{method}/{page}/{since}/{until}")
        assert status == 200
        if isinstance(body, dict) and body.get("inbound", {}).get("error"):
            assert body["inbound"]["error"] in ("No rows found", "Incorrect page is set"), body["inbound"]["error"]
            return records
        payload = body if isinstance(body, list) else body["payload"]
        if not payload:
            return records
        records.extend(payload)
        counters = {**(body.get("info") or {}), **(body.get("inbound") or {})} if isinstance(body, dict) else {}
        if "ofPages" in counters and page + 1 >= counters["ofPages"]:
            return records
    raise AssertionError("no end of pages")


def ckct_id(record: dict) -> str:
    return str(record["universalId"] if "universalId" in record else record["callId"])


def callkeeper_records(body: Any) -> list[dict]:
    """The calls of a read answer, whichever container the server chose (variation.py)."""
    if isinstance(body, dict) and "result" in body:
        body = body["result"]
    if isinstance(body, dict):
        return list(body.values())
    return list(body)

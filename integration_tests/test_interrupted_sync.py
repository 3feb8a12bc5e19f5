"""Kill the connector at random points of a long multi-stream sync, resume from the last state it
emitted, and check that the union of both runs holds every record (at-least-once)."""

import json
import os
import random
import signal
import subprocess
import sys

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from testkit.emulator.world import build_world, world_config
from testkit.connector import assert_no_secrets_in, catalog_for

STREAMS = ["calltracking_calls", "calltracking_calls_by_role", "calltracking_calls_with_role"]


def expected_ids(emulator):
    vendor = emulator.vendors["ckct"]
    account = vendor.accounts[0]
    own = vendor.call_ids(account.own, "2024-01-01", "2024-04-30T23:59:59")
    role = vendor.call_ids(account.by_role, "2024-01-01", "2024-04-30T23:59:59")
    return {"calltracking_calls": set(own), "calltracking_calls_by_role": set(role), "calltracking_calls_with_role": set(own) | set(role)}


def start_read(tmp_path, config, state=None, streams=STREAMS):
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog_for(streams))))
    args = [sys.executable, "-m", "source_calltracking.run", "read", "--config", str(tmp_path / "config.json"),
            "--catalog", str(tmp_path / "catalog.json")]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed_part(lines, key=lambda stream, data: data["record_id"]):
    """What a destination has committed: the records before each stream's last STATE, and that state.
    `key(stream, record data)` is the record's identity (default: ckct's `record_id`)."""
    committed, pending, states = {}, {}, {}
    for line in lines:
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message["type"] == "RECORD":
            stream = message["record"]["stream"]
            pending.setdefault(stream, []).append(key(stream, message["record"]["data"]))
        elif message["type"] == "STATE":
            stream = message["state"]["stream"]["stream_descriptor"]["name"]
            committed.setdefault(stream, set()).update(pending.pop(stream, []))
            states[stream] = message["state"]
    return committed, list(states.values())


def read_until_killed(process, kill_after):
    """The output lines of `process` up to its `kill_after`-th record, where it is killed (SIGKILL),
    and how many records it printed (fewer if it ended first)."""
    lines, records = [], 0
    for line in process.stdout:
        lines.append(line)
        if line.startswith('{"type":"RECORD"'):
            records += 1
            if records >= kill_after:
                os.kill(process.pid, signal.SIGKILL)
                break
    process.wait(timeout=60)
    return lines, records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_killed_sync_resumes_without_losing_a_record(tmp_path, seed):
    rng = random.Random(seed)
    with build_world(latency_seconds=0.01) as emulator:
        config = world_config(emulator, concurrency_level=2)
        config["callkeeper_calltracking"]["window_days"] = 7
        kill_after = rng.randint(200, 7000)  # records printed before the kill
        process = start_read(tmp_path, config)
        lines, records = read_until_killed(process, kill_after)
        first, state = committed_part(lines)
        assert_no_secrets_in("".join(lines), config)

        process = start_read(tmp_path, config, state=state or None)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        assert_no_secrets_in(out + err, config)
        second, _ = committed_part(out.splitlines())

        for stream, ids in expected_ids(emulator).items():
            union = first.get(stream, set()) | second.get(stream, set())
            assert union == ids, f"{stream}: {len(ids - union)} records lost after a kill at record {kill_after}"

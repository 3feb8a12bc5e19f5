"""Kill the connector at random points of a long multi-stream ckct.ru sync, resume from the last
state it emitted, and check that the union of both runs holds every record (at-least-once)."""

import random

import pytest

from integration_tests.calltracking.helpers import STREAMS, expected_ids
from integration_tests.helpers import committed_part, read_until_killed, start_read
from testkit.connector import assert_no_secrets_in
from testkit.emulator.world import build_world, world_config


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_killed_sync_resumes_without_losing_a_record(tmp_path, seed):
    rng = random.Random(seed)
    with build_world(latency_seconds=0.01) as emulator:
        config = world_config(emulator, concurrency_level=2)
        config["callkeeper_calltracking"]["window_days"] = 7
        kill_after = rng.randint(200, 7000)  # records printed before the kill
        process = start_read(tmp_path, config, streams=STREAMS)
        lines, records = read_until_killed(process, kill_after)
        first, state = committed_part(lines)
        assert_no_secrets_in("".join(lines), config)

        process = start_read(tmp_path, config, state=state or None, streams=STREAMS)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        assert_no_secrets_in(out + err, config)
        second, _ = committed_part(out.splitlines())

        for stream, ids in expected_ids(emulator).items():
            union = first.get(stream, set()) | second.get(stream, set())
            assert union == ids, f"{stream}: {len(ids - union)} records lost after a kill at record {kill_after}"

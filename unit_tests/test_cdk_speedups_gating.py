"""cdk_speedups fails safe: every patch leaves the CDK alone, and says so in one line, on a CDK version
it was not verified on, when the function it replaces has another signature, or when it is turned
off. Each case runs in a fresh interpreter, since the patches change the CDK for the whole process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from source_calltracking import cdk_speedups

NAMES = [patch.name for patch in cdk_speedups.PATCHES]


def run_fresh(code: str, **env: str) -> dict:
    """Runs `code` (which prints one JSON line last) in a new interpreter, with the log captured."""
    prologue = textwrap.dedent("""
        import io, json, logging
        log = io.StringIO()
        handler = logging.StreamHandler(log)
        logging.getLogger("airbyte").addHandler(handler)
        logging.getLogger("airbyte").setLevel(logging.INFO)
        from source_calltracking import cdk_speedups
        def report(off):
            print(json.dumps({"off": off, "applied": [p.applied() for p in cdk_speedups.PATCHES],
                              "log": [line for line in log.getvalue().splitlines() if line.startswith("cdk_speedups:")]}))
    """)
    done = subprocess.run(
        [sys.executable, "-c", prologue + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_on_the_verified_cdk_every_speed_up_is_on_and_silent():
    result = run_fresh("report(cdk_speedups.apply())")
    assert result == {"off": [], "applied": [True] * len(NAMES), "log": []}


def test_on_another_cdk_version_every_speed_up_is_off_with_one_line_each():
    result = run_fresh("report(cdk_speedups.apply(cdk_version='7.40.0'))")
    assert result["off"] == NAMES and result["applied"] == [False] * len(NAMES)
    assert result["log"] == [
        f"cdk_speedups: {name} is off: airbyte-cdk 7.40.0 is not a version it was verified on (7.39.1); "
        "the CDK's own code runs instead."
        for name in NAMES
    ]


def test_a_function_whose_signature_changed_is_left_alone():
    result = run_fresh("""
        import queue
        from airbyte_cdk.entrypoint import AirbyteEntrypoint
        from airbyte_cdk.sources.concurrent_source import concurrent_read_processor
        from airbyte_cdk.sources.declarative import concurrent_declarative_source
        from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
        from airbyte_cdk.utils.slice_hasher import SliceHasher

        # As a later CDK might have them: one more parameter each.
        def parse(self, date, format, zone=None): return None
        def hash_(cls, stream_name="", stream_slice=None, salt=None): return 0
        def counts(message, stream_message_count, extra): return message
        def to_message(stream_name, data_or_message, transformer=None, schema=None, file_reference=None, extra=None): return None
        class OtherQueue(queue.Queue):
            def __init__(self, maxsize=0, fair=False): super().__init__(maxsize)
        DatetimeParser.parse = parse
        SliceHasher.hash = classmethod(hash_)
        AirbyteEntrypoint.handle_record_counts = staticmethod(counts)
        concurrent_read_processor.stream_data_to_airbyte_message = to_message
        concurrent_declarative_source.Queue = OtherQueue
        off = cdk_speedups.apply()
        assert DatetimeParser.parse is parse and concurrent_declarative_source.Queue is OtherQueue
        assert concurrent_read_processor.stream_data_to_airbyte_message is to_message
        report(off)
    """)
    assert result["off"] == NAMES and result["applied"] == [False] * len(NAMES)
    assert len(result["log"]) == len(NAMES)
    assert result["log"][0] == (
        "cdk_speedups: fast cursor parsing (DatetimeParser.parse) is off: the CDK's function has "
        "another signature now ((self, date, format, zone=), verified on (self, date, format)); "
        "the CDK's own code runs instead."
    )
    assert all("has another signature now" in line for line in result["log"])


def test_the_switch_turns_every_speed_up_off():
    result = run_fresh("report(cdk_speedups.apply())", **{cdk_speedups.SWITCH: "off"})
    assert result["off"] == NAMES and result["applied"] == [False] * len(NAMES) and result["log"] == []

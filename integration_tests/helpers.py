"""Helpers that the tests of more than one provider share: where the schemas are, the log lines a
sync printed, a sync through the real CLI that is killed and resumed (the `test_interrupted`
modules of the provider folders and test_interrupted_sync.py), a read by the real CLI to its end, and
the records of a stream compared with the emulator's truth (`Read`: calltracking/test_accounts.py,
test_state_migration.py, test_time_zones.py)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer

from testkit.connector import catalog_for
from testkit.emulator.server import Response

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"


class Read(dict):
    """{key: event_time_utc} of a stream's records; equal to a truth {key: UTC instant} when the keys are the
    same and each record's `event_time_utc` is its true instant. A ckct.ru call sent without a time (doc
    000's `timeStart` may be null or missing: the seed decides; `sent_without_time`) is dated by the start of
    the window it was read in (README), which is before its true instant: its key goes in `untimed`, where
    `event_time_utc` must be at most the true instant; such calls are left out of `timed`."""

    def __init__(self):
        super().__init__()
        self.untimed = set()

    def __eq__(self, truth):
        if set(self) != set(truth):
            return False
        return all(self[i] == truth[i] if i not in self.untimed else self[i] <= truth[i] for i in truth)

    __hash__ = None

    def timed(self):
        return {v for i, v in self.items() if i not in self.untimed}


def sent_without_time(record):
    """Whether a ckct.ru call came without a time (neither `callTime` nor `timeStart`); see `Read`."""
    return record.get("callTime") is None and record.get("timeStart") is None


def logs(output, text):
    """The messages of the log lines of a sync's output that contain `text`."""
    return [m.log.message for m in output.logs if text in m.log.message]


def start_read(tmp_path, config, state=None, *, streams):
    """`read` of these streams by the real CLI, in a subprocess (from this state, if given)."""
    args = cli_read_args(tmp_path, config, streams)
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed_part(lines, key=lambda stream, data: data["record_id"]):
    """What a destination has committed: the records before each stream's last STATE, and that state.
    `key(stream, record data)` is the record's identity (default: ckct's `record_id`)."""
    committed, states = committed_records(lines, key)
    return {stream: set(keys) for stream, keys in committed.items()}, list(states.values())


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


def cli_read_args(tmp_path, config, streams, *extra):
    """The command line of the real CLI's `read` of these streams, `extra` arguments (e.g. "--debug")
    last; its config.json and catalog.json are written to tmp_path."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog_for(streams))))
    return [
        sys.executable,
        "-m",
        "source_calltracking.run",
        "read",
        "--config",
        str(tmp_path / "config.json"),
        "--catalog",
        str(tmp_path / "catalog.json"),
        *extra,
    ]


def run_cli_read(tmp_path, config, streams, *extra, timeout):
    """`read` of these streams by the real CLI, in a subprocess, to its end (within `timeout` seconds):
    the finished process, with its stdout and stderr as text."""
    return subprocess.run(cli_read_args(tmp_path, config, streams, *extra), capture_output=True, text=True, timeout=timeout)


def committed_records(lines, key):
    """What a destination has committed, record by record: per stream, `key(stream, record data)` of
    each record before the stream's last STATE, in the order printed (repeats kept), and
    {stream: its last STATE}."""
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
            committed.setdefault(stream, []).extend(pending.pop(stream, []))
            states[stream] = message["state"]
    return committed, states


def transport_faults(timeout_seconds):
    """The transport's faults a REST provider's sync rides out (CallKeeper, RIA.com), by name, as the
    keyword arguments of a `Fault` (`times`: how many requests it hits, so the extra requests it
    costs, one retry each); the timeout lasts `timeout_seconds`, longer than the test's read timeout."""
    return {
        "500": dict(kind="response", times=2, response=Response(500, b"Internal Server Error", "text/plain")),
        "502 HTML page": dict(
            kind="response", times=2, response=Response(502, b"<html><body>Bad Gateway</body></html>", "text/html")
        ),
        "503": dict(kind="response", times=3, response=Response(503, b"")),
        "connection reset": dict(kind="reset", times=2),
        "timeout": dict(kind="timeout", times=1, seconds=timeout_seconds),
        "truncated JSON": dict(kind="truncate", times=2),
        "HTML page with HTTP 200": dict(
            kind="response", times=2, response=Response(200, b"<html>maintenance</html>", "text/html")
        ),
    }

"""The output layer: secrets masked in every form, failures told once, without stack traces."""

import io
import json

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking.entrypoint import RecordBatcher
from source_calltracking.masking import secret_variants
from source_calltracking.messages import ReadableOutput
from unit_tests.pipes import ShortWrites


def trace(message, stream=None, failure_type="config_error"):
    error = {"message": message, "failure_type": failure_type, "stack_trace": "Traceback (most recent call last): ..."}
    if stream:
        error["stream_descriptor"] = {"name": stream}
    return json.dumps({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1, "error": error}}, separators=(",", ":"))


def test_secret_variants_cover_url_encodings_longest_first():
    variants = secret_variants(["a/b c+d", None, ""])
    assert set(variants) == {"a/b c+d", "a%2Fb%20c%2Bd", "a%2Fb+c%2Bd"}
    assert variants == sorted(variants, key=len, reverse=True)


def test_secret_variants_cover_string_escapes_once_and_twice():
    token = "k'e\\y\"ё"
    variants = set(secret_variants([token]))
    assert repr(token.encode())[2:-1] in variants  # as in b'...', the CDK's log of a request body
    assert json.dumps(token)[1:-1] in variants
    assert json.dumps(json.dumps(token)[1:-1])[1:-1] in variants  # a JSON log message inside a JSON line
    line = json.dumps({"log": {"message": json.dumps({"request_body": repr(json.dumps({"access_token": token}).encode())})}})
    for variant in sorted(variants, key=len, reverse=True):
        line = line.replace(variant, "****")
    assert "****" in line and "k\\\\'e" not in line


class CountingStream:
    def __init__(self):
        self.writes = []

    def write(self, text):
        self.writes.append(text)


def record(n):
    return f'{{"type":"RECORD","record":{{"stream":"s","data":{{"n":{n}}},"emitted_at":1}}}}'


def test_records_are_written_in_batches_and_a_state_never_waits_behind_them():
    stream = CountingStream()
    batcher = RecordBatcher(stream)
    for n in range(1000):
        batcher.write(record(n))
    state = '{"type":"STATE","state":{}}'
    batcher.write(state)
    batcher.write(record(1000))
    batcher.flush()
    lines = "".join(stream.writes).splitlines()
    assert lines == [record(n) for n in range(1000)] + [state, record(1000)]
    assert 2 <= len(stream.writes) <= 4  # a full batch or two, the state with the rest, the last record
    assert stream.writes[-2].endswith(state + "\n")


def test_a_log_line_is_written_at_once():
    stream = CountingStream()
    batcher = RecordBatcher(stream)
    batcher.write(record(1))
    assert stream.writes == []
    batcher.write('{"type":"LOG","log":{"level":"INFO","message":"x"}}')
    assert len(stream.writes) == 1 and stream.writes[0].count("\n") == 2


def test_repeated_stream_failures_are_told_once_and_summarised():
    output = ReadableOutput()
    lines = [
        trace("UIS: the token is invalid.", "uis_calls"),
        trace("UIS: the token is invalid.", "uis_calls"),
        trace("RIA.com: quota used up.", "ria_calls", "transient_error"),
        '{"type":"RECORD","record":{}}',
    ]
    printed = list(output.lines(lines))
    assert len(printed) == 3
    assert all("stack_trace" not in line for line in printed[:2])
    error = AirbyteTracedException(
        message="During the sync, the following streams did not sync successfully: ...", failure_type=FailureType.config_error
    )
    output.summarise(error)
    assert error.message == (
        "The sync did not finish. UIS: the token is invalid (stream uis_calls). RIA.com: quota used up (stream ria_calls)."
    )
    assert error.failure_type == FailureType.system_error  # not every failure was the user's config


def test_tracebacks_are_cut_from_log_lines_unless_debug():
    line = json.dumps(
        {
            "type": "LOG",
            "log": {
                "level": "ERROR",
                "message": "Exception while syncing stream x\nTraceback (most recent call last):\n  File a\nValueError: boom",
            },
        },
        separators=(",", ":"),
    )
    quiet = json.loads(next(ReadableOutput().lines([line])))["log"]["message"]
    assert quiet == "Exception while syncing stream x ValueError: boom (run with --debug for the traceback)"
    assert next(ReadableOutput(debug=True).lines([line])) == line


def test_a_short_write_to_stdout_loses_nothing():
    """Under PYTHONUNBUFFERED (Airbyte's images set it) sys.stdout writes through to the raw file, and
    CPython's text layer drops whatever a short write leaves over: under py-spy a 100 000-record RIA.com
    sync printed 99 829 records and broken lines, with exit 0. Every byte of every batch arrives."""
    raw = ShortWrites(limit=1000)
    stdout = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # sys.stdout under -u
    lines = [record(n).replace('"s"', '"звонки"') for n in range(3000)]
    output = RecordBatcher(stdout)
    for line in lines:
        output.write(line)
    output.flush()
    assert raw.data.decode("utf-8").splitlines() == lines

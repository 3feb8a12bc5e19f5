"""Makes the protocol output readable for people: one plain sentence per failure, no stack traces.

The CDK reports a failed stream three ways: a LOG with the whole traceback, a TRACE error per
failed partition (each with the same, good message) and a final exception whose message is the
repr of the first failure (request URL, headers and body). Users need the sentence the error
handler wrote, once. Records and state pass through untouched (a prefix check only).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator

import orjson
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calltracking.providers import provider_of_stream

_LOG_PREFIX = '{"type":"LOG"'
_TRACE_PREFIX = '{"type":"TRACE"'
_TRACEBACK = "Traceback (most recent call last)"


class ReadableOutput:
    def __init__(self, debug: bool = False) -> None:
        self.debug = debug
        self._seen: set[tuple[str, str]] = set()
        self.stream_failures: list[tuple[str, str]] = []
        self.failure_types: set[str] = set()

    def lines(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            if line.startswith(_LOG_PREFIX) and _TRACEBACK in line and not self.debug:
                yield _line_without_traceback(line)
            elif line.startswith(_TRACE_PREFIX) and '"type":"ERROR"' in line:
                polished = self._stream_error(line)
                if polished is not None:
                    yield polished
            else:
                yield line

    def summarise(self, error: AirbyteTracedException) -> None:
        """Give the exception that ends a failed sync the failed streams' own sentences."""
        if self.stream_failures:
            error.internal_message = error.message or error.internal_message
            # One sentence per cause: streams that failed the same way (a revoked key) are named together.
            streams_of: dict = {}
            for text, stream in self.stream_failures:
                streams_of.setdefault(text, []).append(stream)
            error.message = "The sync did not finish. " + " ".join(
                f"{text} (stream{'s' if len(streams) > 1 else ''} {', '.join(dict.fromkeys(streams))})."
                for text, streams in streams_of.items()
            )
            # The CDK always calls the summary a config error; keep the streams' own verdict
            # (all transient, e.g. a used-up quota: transient, so the platform retries later).
            if self.failure_types == {FailureType.transient_error.value}:
                error.failure_type = FailureType.transient_error
            elif self.failure_types - {FailureType.config_error.value}:
                error.failure_type = FailureType.system_error

    def _stream_error(self, line: str):
        message = orjson.loads(line)
        error = message["trace"]["error"]
        stream = (error.get("stream_descriptor") or {}).get("name") or ""
        text = error.get("message") or ""
        if stream:
            text = error["message"] = after_retries(text, stream, error.get("internal_message"))
            if (stream, text) in self._seen:
                return None  # the same failure again, from another date window of the stream
            self._seen.add((stream, text))
            self.stream_failures.append((text.rstrip("."), stream))
            self.failure_types.add(error.get("failure_type") or FailureType.system_error.value)
        if not self.debug:
            error.pop("stack_trace", None)
        return orjson.dumps(message).decode()


# What the CDK says when a request failed on every retry: a generic sentence around the error
# handler's own ("...; retrying.") or the network error's repr, without the provider's name.
_EXHAUSTED = "Exhausted available request attempts. Please see logs for more details. Exception: "
_RATE_LIMIT_EXHAUSTED = "API rate limit exceeded."
_RETRYING = re.compile(r"[;,]?\s*(waiting\b[^;]*?)?\s*(before )?retrying\.?\s*$")
_NETWORK = (
    ("ConnectionError", "the connection to the API failed"),
    ("ChunkedEncodingError", "the API dropped the connection"),
    ("ReadTimeout", "the API did not answer in time"),
    ("ConnectTimeout", "the API could not be reached in time"),
    ("Timeout", "the API did not answer in time"),
)


def after_retries(text: str, stream: str, internal_message: str | None = None) -> str:
    """The CDK's "retries exhausted" failure as one sentence that names the provider and the cause.
    For a rate limit the filter's own sentence is only in the internal message ("Last exception: ...")."""
    if text == _RATE_LIMIT_EXHAUSTED:
        last = (internal_message or "").partition("Last exception: ")[2]
        cause = _RETRYING.sub("", last).rstrip(" .;") or "the API rate limit was reached"
    elif text.startswith(_EXHAUSTED):
        cause = _RETRYING.sub("", text[len(_EXHAUSTED) :]).rstrip(" .;")
    else:
        return text
    found = provider_of_stream(stream)
    provider = found.display_name if found else None
    if provider and not cause.startswith(provider + ":"):
        what = next((plain for name, plain in _NETWORK if cause.startswith(name)), None)
        cause = f"{provider}: {what} ({cause})" if what else f"{provider}: {cause}"
    return f"{cause}. It failed the same way on every retry, so the stream stopped; sync again later."


def without_traceback(text: str) -> str:
    """A log text with its stack trace reduced to the trace's last line (the exception itself)."""
    head, _, rest = text.partition(_TRACEBACK)
    last = rest.strip().splitlines()[-1] if rest.strip() else ""
    return f"{head.strip()} {last}".strip()


def _line_without_traceback(line: str) -> str:
    message = orjson.loads(line)
    message["log"]["message"] = without_traceback(message["log"]["message"]) + " (run with --debug for the traceback)"
    return orjson.dumps(message).decode()


class TracebackFreeLogs(logging.Filter):
    """Keeps stack traces out of log lines (they stay available with --debug)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info or record.exc_text:
            record.exc_info = None
            record.exc_text = None
            record.msg = f"{record.getMessage()} (run with --debug for the traceback)"
            record.args = None
        message = record.getMessage()
        if _TRACEBACK in message:
            record.msg, record.args = without_traceback(message), None
        return True


def keep_tracebacks_out_of_logs() -> None:
    """Install the filter on every handler that prints connector logs."""
    log_filter = TracebackFreeLogs()
    for logger in (logging.getLogger(), logging.getLogger("airbyte")):
        for handler in logger.handlers:
            if not any(isinstance(f, TracebackFreeLogs) for f in handler.filters):
                handler.addFilter(log_filter)

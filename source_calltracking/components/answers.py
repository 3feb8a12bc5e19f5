"""How the connector reads an answer: once, and a large one without holding it in memory.

`answer_of(response)` reads a response's body the first time anything asks for it (the error
handler, before any filter) and keeps what it read, an `Answer`, for the extractors and
paginators that come after: the body parsed once by orjson, and for a large body its records left
in a temporary file (`SpooledRecords`).

RIA.com and the CallKeeper REST API have no pagination (one date window is one answer), and a
page of 10000 UIS rows is 28 MB of text, 75 MB once parsed. Every requester streams its answers
(`StreamedJsonDecoder`), and the body is read here from `response.raw`:

- up to SPOOL_THRESHOLD_BYTES it is kept in memory and parsed whole;
- beyond that it is written to an anonymous temporary file and its array of records is found:
  the body itself (RIA.com, CallKeeper), `result.data` (UIS), `result` or `data`. The rest of the
  document, with the array left out, is parsed at once: the filters see it with the array
  reduced to its first record (all they look at: `total_items`, an error, the first item). The
  records are then parsed about a megabyte at a time (`SpooledRecords.items`), cut between two
  records and each piece parsed by orjson, so memory does not grow with the size of the answer.

An answer cut off mid-way lacks the end of the document (or of its last record), which is
checked before anything is read: it is "not JSON" and retried, as a small one is. A body whose
records cannot be found this way is parsed whole.

Once read, `response.raw` is replaced (a public attribute of `requests`) by the bytes read, so
that whatever the CDK later asks of the response (`text`, to log it) still works; a body of a
megabyte or more is not kept twice, unless --debug logging wants it. `ParsedResponse` is what the
error handler's filters see: the same response, with `json()` answered from the `Answer`.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

SPOOL_THRESHOLD_BYTES = 4 << 20
SEGMENT_BYTES = 1 << 20
_CHUNK_BYTES = 1 << 20
_EDGE_BYTES = 64 << 10  # where the start and the end of the records are looked for
_RECORD_PATHS: Sequence[tuple[str, ...]] = ((), ("result", "data"), ("result",), ("data",))
_MARKER = b'"\\u0000calltracking-records\\u0000"'
_MARKER_VALUE = "\x00calltracking-records\x00"
_WHITESPACE = b" \t\r\n"
_KEEP_TEXT_BYTES = 1 << 20  # a body this large is not kept as text beside its parse (but with --debug)
NOT_JSON = object()
_logger = logging.getLogger("airbyte")


@dataclass
class Answer:
    """What was read of one response: its parsed body (NOT_JSON when it is not JSON), the records
    of a large body left in a file, or the network error that cut the reading short."""

    parsed: Any
    records: SpooledRecords | None = None
    interruption: Exception | None = None

    @property
    def body(self) -> Any:
        """The parsed body, or None when it is not JSON."""
        return None if self.parsed is NOT_JSON else self.parsed


_ANSWERS: weakref.WeakKeyDictionary[requests.Response, Answer] = weakref.WeakKeyDictionary()
_ANSWERS_LOCK = threading.Lock()


def answer_of(response: requests.Response, provider: str = "The API") -> Answer:
    """The response's `Answer`, read now if nothing read it before (`provider` names the vendor in
    the sentence a garbled large answer ends with)."""
    if isinstance(response, ParsedResponse):
        return response.answer
    answer = _ANSWERS.get(response)
    if answer is None:
        answer = _read(response, provider)
        with _ANSWERS_LOCK:
            _ANSWERS[response] = answer
    return answer


def json_body(response: requests.Response) -> Any:
    """The decoded body (parsed once per response), or None when it is not JSON."""
    return answer_of(response).body


def spooled_records(response: requests.Response) -> SpooledRecords | None:
    """The records of a large body, left in its file."""
    return answer_of(response).records


class ParsedResponse(requests.Response):
    """A response as the error handler's filters see it: the same status, headers, request and text,
    with `json()` answered from its `Answer` instead of a new parse of the text per filter (with the
    several predicates a vendor's HTTP-200 errors need, that cost more than the records)."""

    def __init__(self, original: requests.Response, answer: Answer, parsed: Any = None) -> None:
        super().__init__()
        self.original = original
        self.answer = answer
        self._as_seen = answer.parsed if parsed is None else parsed
        for name in ("status_code", "headers", "url", "request", "reason", "encoding", "elapsed", "history", "cookies"):
            setattr(self, name, getattr(original, name))

    @property
    def content(self) -> bytes:  # type: ignore[override]
        return self.original.content

    def json(self, **kwargs: Any) -> Any:
        if self._as_seen is NOT_JSON:
            raise requests.exceptions.JSONDecodeError("the response body is not JSON", "", 0)
        return self._as_seen

    def seen_as(self, parsed: Any) -> ParsedResponse:
        """The same response with the filters seeing `parsed` as its body."""
        return ParsedResponse(self.original, self.answer, parsed)


class StreamedJsonDecoder(JsonDecoder):
    """Asks the CDK to stream the response, so that `answer_of` reads it, a large one into a file.
    Decoding is the answer's body (the connector's extractors and paginators read `answer_of`
    directly). A JsonDecoder, so that the CDK accepts it beside a paginator."""

    def __init__(self, parameters: Mapping[str, Any] | None = None, **_: Any) -> None:
        super().__init__(parameters=parameters or {})

    def is_stream_response(self) -> bool:
        return True

    def decode(self, response: requests.Response) -> Iterator[Mapping[str, Any]]:
        body = json_body(response)
        yield body if isinstance(body, dict) else {}


class SpooledRecords:
    """The records of a large body, left in its temporary file, parsed a segment at a time."""

    def __init__(
        self, file: IO[bytes], start: int, end: int, path: tuple[str, ...], boundary: re.Pattern[bytes], provider: str
    ) -> None:
        self.path = path  # where the records were in the document: () for the body itself
        self._provider = provider
        self._file = file
        self._segments = _segments(file, start, end, boundary)
        self._first: list[Any] = next(self._segments, [])  # for the filters' view of the body

    @property
    def first(self) -> list[Any]:
        return self._first[:1]

    def items(self) -> Iterator[Any]:
        count = 0
        try:
            first, self._first = self._first, []
            count = len(first)
            yield from released(first)
            for segment in self._segments:
                count += len(segment)
                yield from released(segment)
        except orjson.JSONDecodeError as error:
            # Whole at both ends but garbled inside: the records before were emitted; the window's
            # state is not saved, so the next sync reads it again.
            raise AirbyteTracedException(
                message=(
                    f"{self._provider}: the API's answer is not valid JSON after its first {count} records "
                    "(garbled in the middle); the stream stopped, and the next sync reads this date window again."
                ),
                internal_message=f"JSON error in a large answer: {error}",
                failure_type=FailureType.transient_error,
            ) from None
        finally:
            self._file.close()


def _read(response: requests.Response, provider: str) -> Answer:
    """Reads the body (see the module's docstring)."""
    if getattr(response, "_content", False) is not False or response.raw is None:  # read already: not streamed
        return Answer(_parse(response.content or b""))
    head = bytearray()
    spool: IO[bytes] | None = None
    try:
        for chunk in _chunks(response.raw):
            if spool is not None:
                spool.write(chunk)
                continue
            head += chunk
            if len(head) > SPOOL_THRESHOLD_BYTES:
                spool = tempfile.TemporaryFile(prefix="calltracking-")
                spool.write(head)
                head = bytearray()
    except (requests.RequestException, OSError) as error:
        if spool is not None:
            spool.close()
        response.raw = io.BytesIO(b"")
        return Answer(NOT_JSON, interruption=error)
    if spool is None:
        content = bytes(head)
        parsed = _parse(content)
        keep = len(content) < _KEEP_TEXT_BYTES or parsed is NOT_JSON or _logger.isEnabledFor(logging.DEBUG)
        response.raw = io.BytesIO(content if keep else b"")
        return Answer(parsed)
    response.raw = io.BytesIO(b"")
    return _large_answer(spool, provider)


def _chunks(raw: Any) -> Iterator[bytes]:
    """The body's bytes from `response.raw`, decompressed, with urllib3's errors as requests raises
    them (the error handler retries those)."""
    try:
        if hasattr(raw, "stream"):
            yield from raw.stream(_CHUNK_BYTES, decode_content=True)
        else:
            while True:
                chunk = raw.read(_CHUNK_BYTES)
                if not chunk:
                    return
                yield chunk
    except ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(error) from None
    except DecodeError as error:
        raise requests.exceptions.ContentDecodingError(error) from None
    except ReadTimeoutError as error:
        raise requests.exceptions.ConnectionError(error) from None
    except SSLError as error:
        raise requests.exceptions.SSLError(error) from None


def _parse(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return NOT_JSON


def _large_answer(spool: IO[bytes], provider: str) -> Answer:
    size = spool.tell()
    try:
        found = _find_records(spool, size)
    except (orjson.JSONDecodeError, ValueError):
        spool.close()
        return Answer(NOT_JSON)  # cut off or garbled: retried by the not-JSON filter
    if found is None:  # not a shape with an array of records: parsed whole
        spool.seek(0)
        parsed = _parse(spool.read())
        spool.close()
        return Answer(parsed)
    path, start, end, skeleton, boundary = found
    try:
        records = SpooledRecords(spool, start, end, path, boundary, provider)
    except orjson.JSONDecodeError:
        spool.close()
        return Answer(NOT_JSON)
    answer = Answer(_with_records(skeleton, path, records.first), records)
    weakref.finalize(answer, spool.close)  # an answer dropped unread (a retry, a failure)
    return answer


def _find_records(file: IO[bytes], size: int) -> tuple[tuple[str, ...], int, int, Any, re.Pattern[bytes]] | None:
    """(path, offset of the array's `[`, offset of its `]`, the document without the array, the
    boundary between its records).
    Raises ValueError when the document is incomplete; None when it holds no array of records."""
    file.seek(0)
    head = file.read(_EDGE_BYTES)
    tail_offset = max(size - _EDGE_BYTES, 0)
    file.seek(tail_offset)
    tail = file.read()
    if not tail.rstrip(_WHITESPACE).endswith((b"]", b"}")):
        raise ValueError("the document does not end")  # cut off
    for path in _RECORD_PATHS:
        start = _array_start(head, path)
        if start is None:
            continue
        for end in _closing_brackets(tail, tail_offset, path):
            if end <= start:
                break
            skeleton_text = head[:start] + _MARKER + tail[end - tail_offset + 1 :]
            try:
                skeleton = orjson.loads(skeleton_text)
            except orjson.JSONDecodeError:
                continue
            if _at(skeleton, path) == _MARKER_VALUE:
                boundary = _record_boundary(file, start)
                _check_last_record(file, start, end, boundary)
                return path, start, end, skeleton, boundary
    return None


def _array_start(head: bytes, path: tuple[str, ...]) -> int | None:
    position = len(head) - len(head.lstrip(_WHITESPACE))
    if not path:
        return position if head[position : position + 1] == b"[" else None
    for key in path:
        found = re.compile(rb'"' + re.escape(key.encode()) + rb'"\s*:\s*').search(head, position)
        if found is None:
            return None
        position = found.end()
    return position if head[position : position + 1] == b"[" else None


def _closing_brackets(tail: bytes, tail_offset: int, path: tuple[str, ...]) -> Iterator[int]:
    """Candidate offsets of the array's `]`, last first: the body's last byte for the body itself."""
    end = len(tail.rstrip(_WHITESPACE)) - 1
    if not path:
        if tail[end : end + 1] == b"]":
            yield tail_offset + end
        return
    for tries, position in enumerate(m.start() for m in reversed(list(re.finditer(rb"\]", tail)))):
        if tries >= 64:
            return
        yield tail_offset + position


def _check_last_record(file: IO[bytes], start: int, end: int, boundary: re.Pattern[bytes]) -> None:
    """The array's last record must parse: a body cut off inside it and closed by chance (after a
    nested `]`) is not whole. Looked for in a window before the end that grows until a cut before the
    last record parses; a record longer than the largest window is left to the segments to tell."""
    window = SEGMENT_BYTES
    while True:
        begin = max(start + 1, end - window)
        file.seek(begin)
        text = file.read(end - begin)
        if not text.strip(_WHITESPACE):
            return
        cuts = list(_cuts(text, boundary, tries=64))
        for cut in cuts:
            try:
                orjson.loads(b"[" + text[cut.end() :] + b"]")
                return
            except orjson.JSONDecodeError:
                continue
        if begin == start + 1:
            orjson.loads(b"[" + text + b"]")  # the whole array: raises if it is not whole
            return
        if window >= 8 * SEGMENT_BYTES:
            if cuts and boundary is not _ANY_BOUNDARY:
                raise ValueError("the last record of the array is not whole")
            return
        window *= 2


def _record_boundary(file: IO[bytes], start: int) -> re.Pattern[bytes]:
    """Where one record ends and the next begins: `}`, a comma, and the `{` of the next record --
    with its first key when the first record has one, so that the `},{` inside a record's nested
    list of objects is seldom taken for it."""
    file.seek(start + 1)
    opening = re.match(rb'[ \t\r\n]*\{[ \t\r\n]*("(?:[^"\\]|\\.){1,64}")[ \t\r\n]*:', file.read(256))
    if opening is None:
        return _ANY_BOUNDARY
    key = re.escape(opening.group(1))
    return re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*(?=\{[ \t\r\n]*" + key + rb"[ \t\r\n]*:)")


# Between two records: `}`, a comma and the `{` of the next one (spaces allowed).
_ANY_BOUNDARY = re.compile(rb"\}[ \t\r\n]*,[ \t\r\n]*(?=\{)")
_CUT_TRIES = 16


def _cuts(text: bytes, boundary: re.Pattern[bytes], tries: int = _CUT_TRIES) -> Iterator[re.Match[bytes]]:
    """The last `tries` places where `text` may be cut between two records, last first (looked for
    near the end first: a megabyte holds thousands of them)."""
    for tail in (1 << 14, 1 << 18, len(text)):
        found = list(boundary.finditer(text, max(len(text) - tail, 0)))
        if len(found) >= tries or tail >= len(text):
            return iter(found[-tries:][::-1])
    return iter(())


def _segments(file: IO[bytes], start: int, end: int, boundary: re.Pattern[bytes]) -> Iterator[list[Any]]:
    """The records between offsets start (`[`) and end (`]`), as lists of about SEGMENT_BYTES of text.

    A piece is cut at a record boundary; a cut that falls inside a string or a nested object leaves a
    piece that does not parse, so the cut before it is tried, then a longer piece.
    """
    position, buffer = start + 1, b""
    while True:
        want = min(SEGMENT_BYTES, end - position)
        if want > 0:
            file.seek(position)
            chunk = file.read(want)
            position += len(chunk)
            buffer += chunk
        if position >= end:
            if buffer.strip(_WHITESPACE):
                yield orjson.loads(b"[" + buffer + b"]")
            return
        for cut in _cuts(buffer, boundary):
            try:
                records = orjson.loads(b"[" + buffer[: cut.start() + 1] + b"]")
            except orjson.JSONDecodeError:
                continue
            buffer = buffer[cut.end() :]
            yield records
            break


def released(items: list[Any], keep: Any = None) -> Iterator[Any]:
    """The items of a list of a parsed body, in order, each let go of once handed over (those `keep`
    refuses are skipped): a page's memory is returned as its records move on, instead of when the
    last one has."""
    items.reverse()
    pop = items.pop
    while items:
        item = pop()
        if keep is None or keep(item):
            yield item


def _at(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _with_records(skeleton: Any, path: tuple[str, ...], records: list[Any]) -> Any:
    if not path:
        return records
    parent = _at(skeleton, path[:-1])
    parent[path[-1]] = records
    return skeleton

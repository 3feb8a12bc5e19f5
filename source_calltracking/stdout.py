"""Writes to stdout that lose nothing.

Under PYTHONUNBUFFERED, which Airbyte's images set, `sys.stdout.buffer` is the raw file, and a
write to a pipe may take only part of its bytes: when a signal interrupts a blocking write to a
full pipe (a profiler's ptrace stop, a handled signal), the system call returns the count written
so far. CPython's text layer ignores that count, and so does a caller of the raw `write` that
does not loop: the rest is gone without an error. Seen under py-spy: a 100 000-record RIA.com sync
printed 99 829 records and broken lines, with exit 0. Only writes of at most 4 KB (the pipe's
atomic size) are safe from it; a batch of RECORD lines is 64 KB, a Singer record may be larger.
"""

from __future__ import annotations

import select
from typing import Any


def write_text(stream: Any, text: str) -> None:
    """All of `text` to a text stream, through its binary layer when it has one."""
    binary = getattr(stream, "buffer", None)
    if binary is None:
        stream.write(text)
        return
    stream.flush()  # what the text layer may still hold goes first
    write_bytes(binary, text.encode(getattr(stream, "encoding", None) or "utf-8", getattr(stream, "errors", None) or "strict"))
    binary.flush()


def write_bytes(binary: Any, data: bytes) -> None:
    """All of `data` to a binary stream, however few bytes each write takes (a buffered stream takes
    them all at once; the raw file of an unbuffered stdout may not)."""
    view = memoryview(data)
    while view:
        written = binary.write(view)
        if written is None:  # a non-blocking stdout that is full: wait until it takes more
            select.select([], [binary], [])
            continue
        view = view[written:]

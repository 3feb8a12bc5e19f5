"""One thread at a time in `ast.parse` on CPython before 3.13.

The CDK evaluates every interpolated value with `ast.literal_eval`, from several worker threads at
once. Before 3.13, CPython keeps the AST constructor's recursion counter per interpreter, not per
call, so two threads building ASTs together can fail with "SystemError: AST constructor recursion
depth mismatch" (CPython gh-106905) and stop a stream at random. A lock around `ast.parse` (which
`literal_eval` calls) costs microseconds per call and removes the race.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading

_parse_lock = threading.Lock()


def serialise_ast_parse() -> None:
    if sys.version_info >= (3, 13) or getattr(ast.parse, "_serialised", False):
        return
    unsafe_parse = ast.parse

    @functools.wraps(unsafe_parse)
    def parse(*args, **kwargs):
        with _parse_lock:
            return unsafe_parse(*args, **kwargs)

    parse._serialised = True
    ast.parse = parse

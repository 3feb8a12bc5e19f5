"""One thread at a time in `ast.parse`, on the CPython releases that have gh-106905.

The CDK evaluates every interpolated value with `ast.literal_eval`, from several worker threads at
once. CPython 3.11.0-3.11.7 and 3.12.0-3.12.1 keep the AST constructor's recursion counter in state
shared by every call, so two threads building ASTs together can fail with "SystemError: AST
constructor recursion depth mismatch" (CPython gh-106905) and stop a stream at random. The fix
("Use separate structs to track recursion depth in each PyAST_mod2obj call", GH-113035) is in 3.13.0
and was backported to 3.12.2 and 3.11.8. On the releases without it, a lock around `ast.parse`
(which `literal_eval` calls) costs microseconds per call and removes the race.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading

_parse_lock = threading.Lock()


def has_the_race(version: tuple = tuple(sys.version_info[:3])) -> bool:
    """True on the CPython releases without the fix of gh-106905."""
    return (3, 11, 0) <= version < (3, 11, 8) or (3, 12, 0) <= version < (3, 12, 2)


def serialise_ast_parse() -> None:
    if not has_the_race() or getattr(ast.parse, "_serialised", False):
        return
    unsafe_parse = ast.parse

    @functools.wraps(unsafe_parse)
    def parse(*args, **kwargs):
        with _parse_lock:
            return unsafe_parse(*args, **kwargs)

    parse._serialised = True
    ast.parse = parse

"""The connector lets one thread at a time into `ast.parse` (CPython gh-106905, see thread_safe_ast).

Without the lock, 6 threads each running `ast.literal_eval` while the garbage collector runs
finalizers failed about once in 24 000 calls here with "AST constructor recursion depth mismatch";
that stopped a stream of a real sync (seen in the Meltano end-to-end test). The race is too rare to
reproduce in a unit test, so these tests check the mechanism: the lock really excludes a second
thread, and importing the package installs it.
"""

from __future__ import annotations

import ast
import threading

import pytest

import source_calltracking  # noqa: F401  (installs the lock)
from source_calltracking import thread_safe_ast

needs_the_lock = pytest.mark.skipif(not thread_safe_ast.has_the_race(), reason="this CPython has the fix of gh-106905")


def test_the_lock_is_for_exactly_the_releases_without_the_fix():
    assert thread_safe_ast.has_the_race((3, 11, 7)) and thread_safe_ast.has_the_race((3, 12, 1))
    assert not thread_safe_ast.has_the_race((3, 11, 8)) and not thread_safe_ast.has_the_race((3, 12, 2))
    assert not thread_safe_ast.has_the_race((3, 13, 0)) and not thread_safe_ast.has_the_race((3, 10, 14))
    assert getattr(ast.parse, "_serialised", False) == thread_safe_ast.has_the_race()


@needs_the_lock
def test_importing_the_package_serialises_ast_parse():
    assert getattr(ast.parse, "_serialised", False)
    assert ast.literal_eval("{'a': [1, (2, 3)]}") == {"a": [1, (2, 3)]}  # still the real parser


@needs_the_lock
def test_a_second_thread_waits_while_one_is_parsing():
    finished = threading.Event()
    worker = threading.Thread(target=lambda: (ast.literal_eval("[1, 2]"), finished.set()))
    with thread_safe_ast._parse_lock:  # as if another thread were inside ast.parse
        worker.start()
        assert not finished.wait(0.3), "ast.literal_eval ran while another thread held the parse lock"
    assert finished.wait(5), "ast.literal_eval never ran after the lock was released"
    worker.join()


@needs_the_lock
def test_installing_twice_does_not_wrap_twice():
    before = ast.parse
    thread_safe_ast.serialise_ast_parse()
    assert ast.parse is before

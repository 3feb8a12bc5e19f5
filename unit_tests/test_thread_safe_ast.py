"""The connector lets one thread at a time into `ast.parse` (CPython gh-106905, see thread_safe_ast).

Without the lock, 6 threads each running `ast.literal_eval` while the garbage collector runs
finalizers failed about once in 24 000 calls here with "AST constructor recursion depth mismatch";
that stopped a stream of a real sync (seen in the Meltano end-to-end test). The race is too rare to
reproduce in a unit test, so these tests check the mechanism: the lock really excludes a second
thread, and importing the package installs it.
"""

from __future__ import annotations

import ast
import sys
import threading

import pytest

import source_calltracking  # noqa: F401  (installs the lock)
from source_calltracking import thread_safe_ast

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 13), reason="fixed in CPython 3.13")


def test_importing_the_package_serialises_ast_parse():
    assert getattr(ast.parse, "_serialised", False)
    assert ast.literal_eval("{'a': [1, (2, 3)]}") == {"a": [1, (2, 3)]}  # still the real parser


def test_a_second_thread_waits_while_one_is_parsing():
    finished = threading.Event()
    worker = threading.Thread(target=lambda: (ast.literal_eval("[1, 2]"), finished.set()))
    with thread_safe_ast._parse_lock:  # as if another thread were inside ast.parse
        worker.start()
        assert not finished.wait(0.3), "ast.literal_eval ran while another thread held the parse lock"
    assert finished.wait(5), "ast.literal_eval never ran after the lock was released"
    worker.join()


def test_installing_twice_does_not_wrap_twice():
    before = ast.parse
    thread_safe_ast.serialise_ast_parse()
    assert ast.parse is before

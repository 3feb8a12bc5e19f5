"""Fault injection for the emulator: each rule fires on matching requests a given number of times.

One plan per emulator, for every vendor: the server applies the transport faults (a response of
the test's own, resets, timeouts, cut-off and dropped bodies, short answers); a vendor applies the
"error" ones itself, since its errors carry its own state (the UIS budget in `metadata.limits`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    vendor: str
    kind: str  # "response" (send `response` instead), "reset", "timeout", "truncate" (a shorter body, its
    # length announced), "drop" (the full length announced, the connection closed half-way), "short" (the
    # vendor's own answer with its first record left out and its counts unchanged: a page that lost a record),
    # "error" (the vendor answers with one of its own documented errors, described by `error`)
    times: int = 1  # how many matching requests it affects; -1 = forever
    response: object | Callable | None = None
    seconds: float = 0.0
    match: Callable | None = None  # request -> bool
    skip: int = 0  # let this many matching requests through first
    error: dict[str, Any] | None = None  # for "error": what the vendor's error says (see the vendor's emulator)


class FaultPlan:
    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(
        self, vendor: str, request, kinds: Collection[str] | None = None, except_kinds: Collection[str] = ()
    ) -> Fault | None:
        """The first rule for this request (of `kinds`, if given), counted as used."""
        with self._lock:
            for rule in self._rules:
                if rule.vendor != vendor or rule.times == 0:
                    continue
                if (kinds is not None and rule.kind not in kinds) or rule.kind in except_kinds:
                    continue
                if rule.match is not None and not rule.match(request):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                if rule.times > 0:
                    rule.times -= 1
                return rule
        return None

"""Fault injection for the emulator: each rule fires on matching requests a given number of times."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, List, Optional, Union


@dataclass
class Fault:
    vendor: str
    kind: str  # "response" (send `response` instead), "reset", "timeout", "truncate" (a shorter body, its
    # length announced), "drop" (the full length announced, the connection closed half-way), "short" (the
    # vendor's own answer with its first record left out and its counts unchanged: a page that lost a record)
    times: int = 1  # how many matching requests it affects; -1 = forever
    response: Optional[Union[object, Callable]] = None
    seconds: float = 0.0
    match: Optional[Callable] = None  # request -> bool
    skip: int = 0  # let this many matching requests through first


class FaultPlan:
    def __init__(self) -> None:
        self._rules: List[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, vendor: str, request) -> Optional[Fault]:
        with self._lock:
            for rule in self._rules:
                if rule.vendor != vendor or rule.times == 0:
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

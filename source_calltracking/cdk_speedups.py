"""A per-record cost of airbyte-cdk 7.39.1 that buys nothing, removed (found with benchmarks/profile.py).

`DatetimeParser.parse` runs `datetime.strptime` for every record's cursor value (the concurrent
cursor observes each record). For the plain ISO shapes the connector's cursors use
("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d") a value that matches the format exactly
is read by `datetime.fromisoformat`, which gives the same datetime about ten times faster;
anything else still goes to `strptime`, so what is accepted and what is refused is unchanged.

(Caching `StreamSlice.__hash__`, which json-dumps the slice for every record, was tried and
dropped: slices are changed after being hashed, and streams then lost records.)

It is applied once, when the source is built.
"""

from __future__ import annotations

import datetime
import re

from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser

_ISO_SHAPES = {
    "%Y-%m-%d %H:%M:%S": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
    "%Y-%m-%dT%H:%M:%S": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),
    "%Y-%m-%d": re.compile(r"\d{4}-\d{2}-\d{2}"),
}
_UTC = datetime.timezone.utc


def _fast_parse(original):
    def parse(self: DatetimeParser, date, format: str) -> datetime.datetime:
        shape = _ISO_SHAPES.get(format)
        if shape is not None and isinstance(date, str) and shape.fullmatch(date):
            try:
                parsed = datetime.datetime.fromisoformat(date)
            except ValueError:
                return original(self, date, format)  # e.g. month 13: strptime raises as before
            return parsed.replace(tzinfo=_UTC)
        return original(self, date, format)

    return parse


def apply() -> None:
    if not getattr(DatetimeParser.parse, "_calltracking", False):
        DatetimeParser.parse = _fast_parse(DatetimeParser.parse)  # type: ignore[method-assign]
        DatetimeParser.parse._calltracking = True  # type: ignore[attr-defined]

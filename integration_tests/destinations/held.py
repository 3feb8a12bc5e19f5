"""What the emulated world holds, stream by stream, for the destination tests: the number of distinct records
a complete sync of the world's config (START_DATE to END_DATE) must leave in a destination.

Counted from the emulator's own helpers (`call_ids`, `ids`, `chat_messages`, `visitor_ids`, `financial_dates`),
never from the connector's output, so a destination that loses, doubles or fails to merge records is caught.
"""

from __future__ import annotations

import datetime as dt

from testkit.emulator.uis import TABLE as UIS_TABLE
from testkit.emulator.world import CALLKEEPER_STATUSES, END_DATE, START_DATE

START, END = START_DATE, END_DATE + "T23:59:59"
UIS_METHOD_OF = {spec["stream"]: method for method, spec in UIS_TABLE.items()}
CALLKEEPER_METHOD_OF = {
    "callkeeper_calls": "getCallsInfo",
    "callkeeper_completed_calls": "getCallsCompleted",
    "callkeeper_calls_by_status": "getCallsByStatus",
    "callkeeper_tap2calls": "getT2C",
}
UIS_V3_ONLY = ("uis_sales", "uis_api_requests")  # read only where the API offers v3.0 (the default world does not)


def held_counts(emulator) -> dict[str, int]:
    """stream -> number of distinct records (by primary key) the emulator holds for the world's config."""
    counts: dict[str, int] = {}
    ckct = emulator.vendors["ckct"]
    account = ckct.accounts[0]
    own, by_role = ckct.call_ids(account.own, START, END), ckct.call_ids(account.by_role, START, END)
    counts.update(
        calltracking_calls=len(set(own)),
        calltracking_calls_by_role=len(set(by_role)),
        calltracking_calls_with_role=len(set(own) | set(by_role)),
    )

    callkeeper = emulator.vendors["callkeeper"]
    for stream, method in CALLKEEPER_METHOD_OF.items():
        statuses = CALLKEEPER_STATUSES if stream == "callkeeper_calls_by_status" else ()
        counts[stream] = len(set(callkeeper.call_ids(method, START, END, statuses)))
    counts["callkeeper_user"] = len(callkeeper.accounts[:1])  # the key's own user: one record

    counts["ria_calls"] = len(set(emulator.vendors["ria"].call_ids(START_DATE, END_DATE)))

    uis = emulator.vendors["uis"]
    for stream, method in UIS_METHOD_OF.items():
        if stream == "uis_chat_messages":
            counts[stream] = len(
                {
                    (m["chat_id"], m["date_time"], m["source"], m["text"])
                    for chat in uis.chat_ids(START, END)
                    for m in uis.chat_messages(chat)
                }
            )
        elif stream == "uis_visitors":
            counts[stream] = len(set(uis.visitor_ids(START, END)))
        elif stream == "uis_financial_summary":
            days = {day for year, month in months(START_DATE, END_DATE) for day in uis.financial_dates(year, month)}
            counts[stream] = len(days)
        elif stream in UIS_V3_ONLY and not uis.v3_implemented:
            counts[stream] = 0
        else:
            counts[stream] = len(set(uis.ids(method, START, END)))
    return counts


def months(first: str, last: str) -> list[tuple[int, int]]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found

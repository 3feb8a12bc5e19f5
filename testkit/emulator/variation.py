"""What the vendors' documents leave to the server, drawn from a seed.

Where a document is specific, the emulator is strict and answers only as the document shows.
Where it is silent, a real server may answer one way or another, and the connector must read
every one of them: each such choice is drawn here from one seed, `CALLTRACKING_EMULATOR_SEED`
(a new one per test session unless it is set; the tests print it when they fail). Writing one
assumption into both the connector and the emulator is how records were lost before, so the
emulator never takes the connector's side: it takes the seed's.

    CALLTRACKING_EMULATOR_SEED=1234 ./run-tests      # replay a session's choices

`Variation.canonical()` is the one fixed set of choices the benchmark uses (so that its figures
compare from run to run): the samples' own values.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

SEED_VARIABLE = "CALLTRACKING_EMULATOR_SEED"

# Page lengths worth meeting: one call a page, a few, the sample's 1000 and one below it.
_CKCT_PAGE_LENGTHS = (1, 3, 7, 50, 137, 500, 999, 1000)
# Zones of real UIS customer accounts (Moscow first: most accounts are there).
UIS_TIME_ZONES = ("Europe/Moscow", "UTC", "Asia/Yekaterinburg", "Europe/Kaliningrad", "Asia/Novosibirsk")


@dataclass(frozen=True)
class Variation:
    """One answer to every question the documents leave open. Field comments say which document
    is silent, or which two disagree."""

    seed: int
    # ckct (CallKeeper call tracking). Doc 000: `pageLength` is "the maximum number of calls on
    # one page"; 1000 is only the sample's value.
    ckct_page_length: int = 1000
    # Doc 000 describes the counters under `inbound` while its sample has them under `info`;
    # doc 001 shows a bare array with no counters at all.
    ckct_counters: str = "info"  # "inbound", "info", "both", "none"
    # Doc 000 and 001's error section show the envelope, 001's answer a bare array.
    ckct_response_shape: str = "envelope"  # "envelope", "array"
    # Doc 000's record shape (`callId`, `timeStart`, ...) or doc 001's (`universalId`, `callTime`, ...).
    ckct_record_shapes: str = "new"  # "new", "old", "mixed"
    # Past the last page, with no counters to say where it is: doc 001 documents "Incorrect page
    # is set"; published clients also stop on an empty page.
    ckct_past_last_page: str = "incorrect_page"  # "incorrect_page", "empty_page"
    # doc 000's sample sends `timeStart` null; its form, when set, is not shown.
    ckct_time_start_form: str = "text"  # "text" (Y-m-d H:i:s), "unix"
    # The order of the records of one window (no document says).
    record_order: str = "ascending"  # "ascending", "descending", "shuffled"
    # Optional fields: sent with a value, sent as null, or left out (what a document does not
    # forbid: doc 001 says its fields are never null, so they are only left out there).
    optional_fields: str = "present"  # "present", "null", "absent", "mixed"
    # Numbers sent as text where a sample shows them so (doc 001 `cbOfficeNumber: "0"`, doc 003
    # `"id":"123456"`).
    numbers_as_strings: bool = False
    # Doc 003 shows no container for the read methods' answers.
    callkeeper_container: str = "result"  # "result", "array", "keyed", "result_keyed"
    callkeeper_user_container: str = "array"  # "array", "object", "result"
    # Doc 003 does not show the form of a call's `date` (only that it is UTC).
    callkeeper_date_form: str = "space"  # "space" (Y-m-d H:i:s), "t" (Y-m-dTH:i:s), "offset" (…+00:00)
    # Doc 003 does not say whether `date[to]` includes its own second, nor how a local time that a
    # daylight-saving change makes happen twice is read.
    callkeeper_to_bound: str = "inclusive"  # "inclusive", "exclusive"
    callkeeper_repeated_hour: int = 0  # 0: the first of the two moments, 1: the second
    # Undocumented fields a server adds beside the documented ones.
    extra_fields: bool = False
    # UIS: the documents give no zone; the account's zone comes from `get.account` (API_NOTES). The
    # default account's zone, among real customers' zones.
    uis_time_zone: str = "Europe/Moscow"
    # UIS: how a `date_from`/`date_till` that a daylight-saving change repeats is read (no document says).
    uis_repeated_hour: int = 0  # 0: the first of the two moments, 1: the second
    # No document says whether ids are unique across the clients of an agent or the accounts of one
    # vendor: the second account's (and each UIS client's) ids either repeat the first's or do not.
    ids_overlap_across_accounts: bool = False
    # ckct doc 001: `timezoneOffset` is "the time zone's offset" (STRING); its sample is "+0020" beside a
    # `localDate` two hours after `callTime`. "utc": the client zone's offset from UTC ("+0500"); "server":
    # its offset from the account's server zone, the zone of `callTime` ("+0200"); "sample": that
    # difference written as the sample writes two hours ("+0020": hours times ten, four digits).
    ckct_timezone_offset_form: str = "utc"  # "utc", "server", "sample"

    @classmethod
    def canonical(cls) -> Variation:
        return cls(seed=0)

    @classmethod
    def from_seed(cls, seed: int) -> Variation:
        rng = random.Random(seed)
        return cls(
            seed=seed,
            ckct_page_length=rng.choice(_CKCT_PAGE_LENGTHS + (rng.randint(1, 1000),)),
            ckct_counters=rng.choice(("inbound", "info", "both", "none")),
            ckct_response_shape=rng.choice(("envelope", "array")),
            ckct_record_shapes=rng.choice(("new", "old", "mixed")),
            ckct_past_last_page=rng.choice(("incorrect_page", "empty_page")),
            ckct_time_start_form=rng.choice(("text", "unix")),
            record_order=rng.choice(("ascending", "descending", "shuffled")),
            optional_fields=rng.choice(("present", "null", "absent", "mixed")),
            numbers_as_strings=rng.random() < 0.5,
            callkeeper_container=rng.choice(("result", "array", "keyed", "result_keyed")),
            callkeeper_user_container=rng.choice(("array", "object", "result")),
            callkeeper_date_form=rng.choice(("space", "t", "offset")),
            callkeeper_to_bound=rng.choice(("inclusive", "exclusive")),
            callkeeper_repeated_hour=rng.choice((0, 1)),
            extra_fields=rng.random() < 0.5,
            # drawn after the older choices, so that a seed keeps its earlier answers
            uis_time_zone=rng.choice(UIS_TIME_ZONES),
            uis_repeated_hour=rng.choice((0, 1)),
            ids_overlap_across_accounts=rng.random() < 0.5,
            ckct_timezone_offset_form=rng.choice(("utc", "server", "sample")),
        )

    def but(self, **changes: Any) -> Variation:
        """The same choices with some changed (a test that needs one variant in particular)."""
        return replace(self, **changes)

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))

    # ---- choices that depend on the record -----------------------------------------------------
    def ordered(self, indices: Sequence[int], salt: str = "") -> list[int]:
        """The indices of one window's records in the order this server sends them."""
        if self.record_order == "descending":
            return list(reversed(indices))
        ordered = list(indices)
        if self.record_order == "shuffled":
            random.Random(f"{self.seed}:{salt}:{len(ordered)}:{ordered[:1]}").shuffle(ordered)
        return ordered

    def page_positions(self, size: int, first: int, length: int, salt: str = "") -> list[int]:
        """Positions (0 .. size-1, in time order) of the records on the page that starts at `first`
        of a window of `size` records, in the order this server sends them. Ascending and descending
        are worked out, not listed, so that a window of a million records costs nothing."""
        positions = range(first, min(first + length, size))
        if self.record_order == "descending":
            return [size - 1 - p for p in positions]
        if self.record_order == "shuffled":
            order = self.ordered(range(size), salt)
            return [order[p] for p in positions]
        return list(positions)

    def optional(self, record: dict[str, Any], required_keys: Sequence[str], n: int, nullable: bool = True) -> dict[str, Any]:
        """`record` with its optional fields -- all but `required_keys` -- as this server sends them
        (`n` picks, record by record, which fields in the "mixed" variant)."""
        mode = self.optional_fields
        if mode == "present":
            return record
        for position, key in enumerate([k for k in record if k not in required_keys]):
            choice = mode if mode != "mixed" else ("present", "null", "absent")[(n + position) % 3]
            if choice == "present" or (n + position) % 4:  # one optional field in four, record by record
                continue
            if choice == "null" and nullable:
                record[key] = None
            else:
                record.pop(key)
        return record

    def with_extras(self, record: dict[str, Any], n: int) -> dict[str, Any]:
        if self.extra_fields:
            record["x_unlisted_flag"] = n % 2 == 0
            if n % 3 == 0:
                record["x_unlisted_note"] = f"note {n}"
        return record


def session_seed(environ: dict[str, str] | None = None) -> int:
    """The seed of this process: `CALLTRACKING_EMULATOR_SEED` if set, else one drawn now and put in
    the environment, so that child processes (the demo's, the container's) draw the same."""
    environ = os.environ if environ is None else environ
    value = environ.get(SEED_VARIABLE, "").strip()
    if not value:
        value = str(random.SystemRandom().randrange(1, 1_000_000))
        environ[SEED_VARIABLE] = value
    return int(value)


def session_variation() -> Variation:
    return Variation.from_seed(session_seed())

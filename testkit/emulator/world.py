"""The default emulated world: every vendor with deterministic data and the keys the configs use.

Tests, the README demo, the standard test suite and the benchmarks all start from here, so a
provider added to the connector is added to the emulator once, in `build_world`.

Besides the default account of every vendor (the one `provider_block` configures) the world holds:
- a UIS agent (partner) token, `UIS_AGENT_TOKEN`, with the three clients of `UIS_CLIENTS`: one in
  Asia/Yekaterinburg (UTC+5, no daylight saving), one in Europe/Riga (its clocks went from 03:00 EET
  to 04:00 EEST on 2024-03-31, inside START_DATE..END_DATE), and one whose access is withdrawn
  (`forbidden`). Each has its own reports (fewer rows than the default account, each its own count),
  rows at its local midnights and around its DST change (`UIS_CLIENT_EDGES`), and ids that repeat
  the default account's or do not, as the seed says (`ids_overlap_across_accounts`, also for ckct.ru's second
  account; CallKeeper's and RIA.com's ids are unique in their systems, so theirs never repeat);
- a second account of ckct.ru (server zone Asia/Yekaterinburg, client zone Asia/Novosibirsk), of the
  CallKeeper REST API and of RIA.com (with calls at Kyiv midnights and around Kyiv's DST change):
  `SECOND_ACCOUNTS[provider]` are their config fragments, `FIRST_ACCOUNTS[provider]` the default's, and
  `accounts_block` writes a block with both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from source_calltracking.providers import PROVIDER_KEYS
from testkit.emulator.callkeeper import DEFAULT_USER, default_callkeeper
from testkit.emulator.ckct import default_ckct
from testkit.emulator.ria import default_ria
from testkit.emulator.server import Emulator
from testkit.emulator.timeline import spread, with_edges
from testkit.emulator.uis import default_uis, make_client
from testkit.emulator.variation import Variation, session_variation

# Credentials the emulator accepts. They look like the vendors' keys but are made up.
CKCT_API_KEY = "ck7e1a9c3b5d2f40"
CKCT_ROLE_KEY = "r0le5k3y9a8b7c6d"
CALLKEEPER_API_KEY = "5b534347d4c480bee596c5d40ad4e82f"  # 32 hex digits, like the keys of the Profile tab
CALLKEEPER_STATUSES = ["200/200", "200/487"]
RIA_API_KEY = "Xq8Lw2RZt0eV5nYb7cKm3dPf9sHj4uGa6TyNzQ1r"
RIA_USER_ID = "1505029"
UIS_ACCESS_TOKEN = "u1s7k2m9q4w8e3r6t0y5a1s2d3f4g5h6j7k8l9z0"  # 40 letters and digits, like a Data API token
UIS_EXPIRED_TOKEN = "u1s0expired0000000000000000000000000000e"
UIS_BLOCKED_TOKEN = "u1s0blocked0000000000000000000000000000b"

START_DATE = "2024-01-01"
END_DATE = "2024-04-30"
END = END_DATE + "T23:59:59"

# ---- the second accounts and the agent's clients -------------------------------------------------
CKCT_SECOND_API_KEY = "ck2b8d4f6a1c3e5g"
CKCT_SECOND_ROLE_KEY = "r2le7m4n1p8q5s3t"
CKCT_SECOND_SERVER_ZONE = "Asia/Yekaterinburg"  # `callTime`, `timeStart` and `Y-m-d` bounds
CKCT_SECOND_CLIENT_ZONE = "Asia/Novosibirsk"  # `localDate`: two hours after `callTime`, as in doc 001's sample
CKCT_DEFAULT_SERVER_ZONE = "UTC"  # the default account renders `callTime` as it always did
CKCT_DEFAULT_CLIENT_ZONE = "Europe/Moscow"
CALLKEEPER_SECOND_API_KEY = "9f0e1d2c3b4a59687766554433221100"
RIA_SECOND_API_KEY = "Pm4Kc9Wq2Lx7Rb5Nv1Tz8Hy3Jd6Fg0Su2Ae9OiYw"
RIA_SECOND_USER_ID = "2716304"
RIA_ZONE = "Europe/Kyiv"
UIS_AGENT_TOKEN = "u1s0agent7p4r9t2n5e8r1t6o3k0e7n4a1g8e5n2"  # a partner's token: 40 letters and digits

FIRST_ACCOUNTS: dict[str, dict[str, str]] = {
    "callkeeper_calltracking": {"api_key": CKCT_API_KEY, "role_api_key": CKCT_ROLE_KEY},
    "callkeeper": {"api_key": CALLKEEPER_API_KEY},
    "ria": {"api_key": RIA_API_KEY, "user_id": RIA_USER_ID},
}
SECOND_ACCOUNTS: dict[str, dict[str, str]] = {
    "callkeeper_calltracking": {"api_key": CKCT_SECOND_API_KEY, "role_api_key": CKCT_SECOND_ROLE_KEY},
    "callkeeper": {"api_key": CALLKEEPER_SECOND_API_KEY},
    "ria": {"api_key": RIA_SECOND_API_KEY, "user_id": RIA_SECOND_USER_ID},
}
EXTRA_ACCOUNTS = SECOND_ACCOUNTS

# Calls a second before and at local midnights (UTC instants), and around the DST change where there is one.
CKCT_SECOND_EDGES = (
    "2023-12-31T19:00:00Z",
    "2024-02-14T18:59:59Z",
    "2024-02-14T19:00:00Z",
    "2024-04-30T18:59:59Z",
    "2024-04-30T19:00:00Z",
)  # Yekaterinburg midnight is 19:00 UTC
CALLKEEPER_SECOND_EDGES = ("2024-02-29T20:59:59Z", "2024-02-29T21:00:00Z")  # Moscow midnight, 1 March
RIA_SECOND_EDGES = (
    "2023-12-31T22:00:00Z",  # 1 January 00:00 in Kyiv, still 2023 in UTC
    "2024-01-31T21:59:59Z",
    "2024-01-31T22:00:00Z",  # the end of January in Kyiv
    "2024-03-30T21:59:59Z",
    "2024-03-30T22:00:00Z",  # 31 March 00:00 EET
    "2024-03-31T00:59:59Z",
    "2024-03-31T01:00:00Z",  # 02:59:59 EET, then 04:00:00 EEST: 03:00-03:59 never happened
    "2024-03-31T20:59:59Z",
    "2024-03-31T21:00:00Z",  # 1 April 00:00 EEST: 31 March had 23 hours
    "2024-04-30T20:59:59Z",
    "2024-04-30T21:00:00Z",  # 1 May 00:00 in Kyiv, still 30 April in UTC
)
UIS_CLIENTS: list[dict[str, Any]] = [
    {
        "user_id": 310_001,
        "login": "ural_motors",
        "name": "Урал Моторс",
        "description": "Автосалон, Екатеринбург",
        "customer_id": 517_001,
        "timezone": "Asia/Yekaterinburg",
        "forbidden": False,
        "share": 0.5,
    },
    {
        "user_id": 310_002,
        "login": "riga_dental",
        "name": "Riga Dental",
        "description": None,
        "customer_id": 517_002,
        "timezone": "Europe/Riga",
        "forbidden": False,
        "share": 0.3,
    },
    {
        "user_id": 310_003,
        "login": "closed_shop",
        "name": "Закрытый магазин",
        "description": "Доступ отозван",
        "customer_id": 517_003,
        "timezone": "Europe/Moscow",
        "forbidden": True,
        "share": 0.1,
    },
]
UIS_CLIENT_EDGES: dict[int, tuple] = {
    310_001: (
        "2023-12-31T19:00:00Z",
        "2024-01-31T18:59:59Z",
        "2024-01-31T19:00:00Z",
        "2024-03-31T18:59:59Z",
        "2024-03-31T19:00:00Z",
        "2024-04-30T19:00:00Z",
    ),  # Yekaterinburg midnight is 19:00 UTC
    310_002: (
        "2023-12-31T22:00:00Z",
        "2024-03-30T21:59:59Z",
        "2024-03-30T22:00:00Z",
        "2024-03-31T00:59:59Z",
        "2024-03-31T01:00:00Z",
        "2024-03-31T20:59:59Z",
        "2024-03-31T21:00:00Z",
        "2024-04-30T21:00:00Z",
    ),  # Riga: as Kyiv, 03:00 EET -> 04:00 EEST on 31 March
    310_003: (),
}

PROVIDERS = PROVIDER_KEYS  # the connector's own list
# Where each provider's emulated API is served: /<vendor>/... on the emulator.
VENDOR_OF = {"callkeeper_calltracking": "ckct", "callkeeper": "callkeeper", "ria": "ria", "uis": "uis"}


def build_world(
    latency_seconds: float = 0.0, scale: float = 1.0, ria_hourly_limit: int = 30, variation: Variation | None = None
) -> Emulator:
    """An emulator (not started) serving every vendor; `scale` multiplies the record counts.
    `ria_hourly_limit`: RIA.com requests per key per hour (the real free plan allows about 30).
    `variation`: what the servers choose where the documents are silent (default: this session's seed)."""
    variation = variation or session_variation()
    emulator = Emulator(latency_seconds=latency_seconds)
    emulator.variation = variation
    # Ids of ckct's and UIS's second accounts: the first's again, or their own (their documents do not say
    # ids are unique across accounts). CallKeeper's and RIA.com's are unique in the whole system, so never repeat:
    # "Id — уникальный идентификатор звонка в системе CallKeeper" (CallKeeper REST API), "унікальний ID" (RIA.com).
    overlap = variation.ids_overlap_across_accounts
    ckct = default_ckct(
        CKCT_API_KEY,
        CKCT_ROLE_KEY,
        own_count=int(2500 * scale),
        role_count=int(1200 * scale),
        start=START_DATE,
        end=END,
        variation=variation,
    )
    offset = 0 if overlap else 10_000_000
    ckct.add_account(
        CKCT_SECOND_API_KEY,
        CKCT_SECOND_ROLE_KEY,
        with_edges(spread(max(1, int(900 * scale)), START_DATE, END, offset), CKCT_SECOND_EDGES),
        spread(max(1, int(400 * scale)), START_DATE, END, offset + 5_000_000),
        server_zone=CKCT_SECOND_SERVER_ZONE,
        client_zone=CKCT_SECOND_CLIENT_ZONE,
    )
    emulator.register("ckct", ckct)

    callkeeper = default_callkeeper(
        CALLKEEPER_API_KEY, calls=int(1500 * scale), tap2calls=int(300 * scale), start=START_DATE, end=END, variation=variation
    )
    offset = 100_000  # unique in the system, whatever the seed
    callkeeper.add_account(
        CALLKEEPER_SECOND_API_KEY,
        with_edges(spread(max(1, int(700 * scale)), START_DATE + "T00:17:00", END, offset), CALLKEEPER_SECOND_EDGES),
        spread(max(1, int(120 * scale)), START_DATE + "T00:17:00", END, offset),
        {
            **DEFAULT_USER,
            "id": 52_310,
            "email": "ural@example.ru",
            "name": "Ural Auto",
            "balance": 310,
            "time_zone": "Asia/Yekaterinburg",
            "widgets": 1,
        },
    )
    emulator.register("callkeeper", callkeeper)

    ria = default_ria(
        RIA_API_KEY,
        RIA_USER_ID,
        calls=int(1200 * scale),
        start=START_DATE,
        end=END,
        hourly_limit=ria_hourly_limit,
        variation=variation,
    )
    ria.add_account(
        RIA_SECOND_API_KEY,
        RIA_SECOND_USER_ID,
        with_edges(spread(max(1, int(400 * scale)), START_DATE, END, 1_000_000), RIA_SECOND_EDGES),
    )
    emulator.register("ria", ria)

    uis = default_uis(
        UIS_ACCESS_TOKEN,
        start=START_DATE,
        end=END,
        scale=scale,
        expired_token=UIS_EXPIRED_TOKEN,
        blocked_token=UIS_BLOCKED_TOKEN,
        variation=variation,
    )
    clients = []
    for number, spec in enumerate(UIS_CLIENTS, 1):
        clients.append(
            make_client(
                spec["user_id"],
                spec["login"],
                spec["name"],
                spec["timezone"],
                START_DATE,
                END,
                share=spec["share"],
                scale=scale,
                forbidden=spec["forbidden"],
                description=spec["description"],
                customer_id=spec["customer_id"],
                id_offset=0 if overlap else 200_000 * number,
                visitor_offset=0 if overlap else 1_000_000 * number,
                edges=UIS_CLIENT_EDGES[spec["user_id"]],
            )
        )
    uis.add_agent(UIS_AGENT_TOKEN, clients)
    emulator.register("uis", uis)
    return emulator


def provider_block(emulator: Emulator, provider: str) -> dict[str, Any]:
    if provider == "callkeeper_calltracking":
        return {"api_key": CKCT_API_KEY, "role_api_key": CKCT_ROLE_KEY, "base_url": emulator.url("ckct") + "/api/"}
    if provider == "callkeeper":
        return {
            "api_key": CALLKEEPER_API_KEY,
            "statuses": list(CALLKEEPER_STATUSES),
            "base_url": emulator.url("callkeeper") + "/",
        }
    if provider == "ria":
        # Short quota waits: the emulator's quota is per process, and tests must not wait minutes.
        return {
            "api_key": RIA_API_KEY,
            "user_id": RIA_USER_ID,
            "base_url": emulator.url("ria") + "/",
            "rate_limit_wait_seconds": 0.01,
        }
    if provider == "uis":
        return {"access_token": UIS_ACCESS_TOKEN, "base_url": emulator.url("uis")}
    raise KeyError(provider)


def accounts_block(emulator: Emulator, provider: str, names: Sequence[str] = ("A", "B")) -> dict[str, Any]:
    """The block of `provider` (callkeeper_calltracking, callkeeper or ria) with both accounts in `accounts`
    (`{"name": names[0], **FIRST_ACCOUNTS[provider]}`, then the second), its other keys as `provider_block`'s."""
    block = {k: v for k, v in provider_block(emulator, provider).items() if k not in FIRST_ACCOUNTS[provider]}
    block["accounts"] = [{"name": names[0], **FIRST_ACCOUNTS[provider]}, {"name": names[1], **SECOND_ACCOUNTS[provider]}]
    return block


def uis_agent_block(emulator: Emulator, user_ids: str | list[int] | None = "all") -> dict[str, Any]:
    """A `uis` block for the agent token: `user_ids` a list of client user ids, or "all" (None: left out)."""
    block: dict[str, Any] = {"access_token": UIS_AGENT_TOKEN, "base_url": emulator.url("uis")}
    if user_ids is not None:
        block["user_ids"] = user_ids
    return block


def world_config(emulator: Emulator, providers: Iterable[str] | None = None, **overrides: Any) -> dict[str, Any]:
    """A connector config pointing every requested provider (default: all) at the emulator."""
    config: dict[str, Any] = {"start_date": START_DATE, "end_date": END_DATE, "lookback_window_days": 1}
    for provider in providers or PROVIDERS:
        config[provider] = provider_block(emulator, provider)
    config.update(overrides)
    return config


SECRET_KEYS = ("api_key", "role_api_key", "access_token")


def secrets_of(config: dict[str, Any]) -> list:
    """Every credential value in a config, for leak scans: in each block and in each of its `accounts`."""
    found = []
    for block in config.values():
        if not isinstance(block, dict):
            continue
        holders = [block] + [a for a in block.get("accounts") or [] if isinstance(a, dict)]
        for holder in holders:
            for key in SECRET_KEYS:
                if holder.get(key):
                    found.append(str(holder[key]))
    return found

"""Every form in which a credential may appear in output, so that all of them are masked."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_plus


def _escaped(text: str) -> set:
    """`text` as string escaping may print it: JSON, and Python's repr of a str or of bytes (the CDK
    logs a request body as `b'...'`)."""
    backslashed = text.replace("\\", "\\\\")
    return {
        text,
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        backslashed.replace("'", "\\'"),
        backslashed.replace('"', '\\"'),
        repr(text.encode())[2:-1],
    }


_ESCAPE_LEVELS = 4  # a token in a JSON request body, logged as b'...', in a JSON debug message, in a JSON line


def secret_variants(secrets: list[Any]) -> list[str]:
    """Each secret as it may appear in output: raw or URL-encoded (as in a request URL), each of these
    string-escaped up to _ESCAPE_LEVELS times over. (A plain token has one or three forms; only one
    with quotes, backslashes or non-ASCII letters has more.)"""
    variants = set()
    for secret in secrets:
        if secret is None or str(secret) == "":
            continue
        text = str(secret)
        level = {text, quote(text, safe=""), quote_plus(text)}
        for _ in range(_ESCAPE_LEVELS):
            variants |= level
            level = {escaped for form in level for escaped in _escaped(form)} - variants
        variants |= level
    # Longest first, so that a secret containing another is masked whole.
    return sorted(variants, key=len, reverse=True)


SECRET_KEYS = frozenset({"api_key", "role_api_key", "access_token"})


def secrets_in(config: Any) -> list[Any]:
    """Every credential of a config, at any depth: the blocks' own, and those of the accounts in their
    `accounts` lists (which the CDK's spec-path lookup does not reach inside an array)."""
    found: list[Any] = []
    if isinstance(config, dict):
        for key, value in config.items():
            if key in SECRET_KEYS and isinstance(value, (str, int)):
                found.append(value)
            else:
                found.extend(secrets_in(value))
    elif isinstance(config, list):
        for item in config:
            found.extend(secrets_in(item))
    return found

"""meltano.yml agrees with the connector: the tap's entry point, capabilities, and settings vs the spec."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "meltano.yml").read_text())
SPEC = yaml.safe_load((ROOT / "source_calltracking" / "manifest.yaml").read_text())["spec"]["connection_specification"]
TAP = next(p for p in PROJECT["plugins"]["extractors"] if p["name"] == "tap-calltracking")
SETTINGS = {s["name"]: s for s in TAP["settings"]}


def spec_fields():
    """(dotted name, definition) of every top-level property and every property of a provider block."""
    for name, definition in SPEC["properties"].items():
        if definition.get("type") == "object":
            for inner, inner_definition in (definition.get("properties") or {}).items():
                yield f"{name}.{inner}", inner_definition
        else:
            yield name, definition


def test_tap_is_the_console_script_with_singer_capabilities():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[TAP["executable"]] == "source_calltracking.singer:main"
    assert TAP["namespace"] == "tap_calltracking" and TAP["pip_url"] == "-e ."
    assert {"catalog", "discover", "state"} <= set(TAP["capabilities"])
    assert [p["name"] for p in PROJECT["plugins"]["loaders"]] == ["target-jsonl"]
    assert PROJECT["send_anonymous_usage_stats"] is False
    assert PROJECT["default_environment"] in [e["name"] for e in PROJECT["environments"]]  # state needs one


def test_every_credential_of_the_spec_is_a_password_setting():
    secrets = [name for name, definition in spec_fields() if definition.get("airbyte_secret")]
    assert secrets
    for name in secrets:
        assert SETTINGS.get(name, {}).get("kind") == "password", f"meltano.yml: declare {name} with kind: password"


def test_settings_name_real_config_keys_with_their_types():
    fields = dict(spec_fields())
    kinds = {"string": {"string"}, "integer": {"integer"}, "number": {"string"}, "array": {"array"}, "boolean": {"boolean"}}
    for name in SPEC["required"]:
        assert name in SETTINGS
    for name, setting in SETTINGS.items():
        if name.split(".")[0] not in SPEC["properties"]:
            continue  # a provider this branch's spec does not have yet (see CONTRACT.md)
        assert name in fields, f"meltano.yml setting {name} is not in the connector's spec"
        field = fields[name]
        declared = (
            field["type"] if "type" in field else [option["type"] for option in field["oneOf"]]
        )  # uis.user_ids: a list or "all"
        types = declared if isinstance(declared, list) else [declared]
        if setting["kind"] != "password":
            assert setting["kind"] in set().union(*(kinds.get(t, set()) for t in types)), name


def test_every_field_of_the_spec_is_a_setting():
    """Except numbers with fractions: Meltano 4.4 cannot serialise its `decimal` kind (they go under `config:`)."""
    fractional = {name for name, definition in spec_fields() if definition.get("type") == "number"}
    assert fractional == {"retry_backoff_seconds", "ria.rate_limit_wait_seconds"}
    raw = (ROOT / "meltano.yml").read_text()
    assert all(name in raw for name in fractional), "meltano.yml: say where the fractional settings go"
    missing = [name for name, _ in spec_fields() if name not in SETTINGS and name not in fractional]
    assert not missing, f"meltano.yml lacks settings for {missing}"

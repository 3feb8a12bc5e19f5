"""The docs page, metadata.yaml, the Dockerfile and the spec stay true to the connector.

Everything is derived from the connector itself (spec, manifest, discover with a config of every
provider the emulator serves), so the checks keep holding as providers are added.
"""

from __future__ import annotations

import ast
import re
import tomllib
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import MetadataFile

from testkit.connector import run_discover
from testkit.emulator.world import world_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "integrations" / "sources" / "calltracking.md"
MANIFEST = yaml.safe_load((ROOT / "source_calltracking" / "manifest.yaml").read_text())
SPEC = MANIFEST["spec"]["connection_specification"]
METADATA = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PROVIDER_BLOCKS = {name: prop for name, prop in SPEC["properties"].items() if prop.get("type") == "object"}


def docs_section(title: str) -> str:
    text = DOCS.read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"the docs page has no '## {title}' section"
    return match.group(1)


def table_rows(section: str):
    """The rows of the markdown tables of a section, as lists of cell texts (header rows included)."""
    for line in section.splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*:?-", line):
            yield [cell.strip() for cell in line.strip().strip("|").split("|")]


def dockerfile_arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S*)$", DOCKERFILE, re.M)
    assert match, f"the Dockerfile has no default for ARG {name}"
    return match.group(1).strip('"')


# ---- docs ---------------------------------------------------------------------------------------


def test_docs_page_has_airbyte_sections():
    headers = re.findall(r"^## (.+)$", DOCS.read_text(), re.M)
    assert headers == [
        "Prerequisites",
        "Setup guide",
        "Supported sync modes",
        "Supported Streams",
        "Performance considerations",
        "Limitations & Troubleshooting",
        "CONTRACT-EXTENSIONS",
        "Changelog",
    ]
    assert re.search(rf"^\| {re.escape(VERSION)} \| \d{{4}}-\d{{2}}-\d{{2}} \|", docs_section("Changelog"), re.M)


def test_docs_list_every_discovered_stream_with_its_keys(emulator):
    """Every stream of a config with every provider is documented, with the key and cursor it has."""
    catalog = run_discover(world_config(emulator)).catalog.catalog
    assert catalog.streams
    rows = {row[0].strip("`"): row for row in table_rows(docs_section("Supported Streams"))}
    for stream in catalog.streams:
        assert stream.name in rows, f"docs: stream {stream.name} is missing from Supported Streams"
        row = rows[stream.name]
        key = ", ".join(f"`{'.'.join(path)}`" for path in stream.source_defined_primary_key or []) or "—"
        cursor = ", ".join(f"`{field}`" for field in stream.default_cursor_field or []) or "—"
        assert row[3] == key, f"docs: {stream.name} primary key is {key}, the table says {row[3]}"
        assert row[4] == cursor, f"docs: {stream.name} cursor is {cursor}, the table says {row[4]}"
        modes = ", ".join(m.value.replace("_", " ") for m in stream.supported_sync_modes)
        assert row[5] == modes, f"docs: {stream.name} supports {modes}, the table says {row[5]}"
        assert row[6] == "available", f"docs: {stream.name} is implemented: mark its row 'available'"


def test_docs_list_the_key_of_every_stream_in_the_many_accounts_form(emulator):
    """The last column: each stream's primary key when the blocks list `accounts` and UIS `user_ids`."""
    config = world_config(emulator)
    for key in ("callkeeper_calltracking", "callkeeper", "ria"):
        own = {k: config[key].pop(k) for k in ("api_key", "role_api_key", "user_id", "statuses") if k in config[key]}
        config[key]["accounts"] = [{"name": "Client A", **own}]
    config["uis"]["user_ids"] = [101, 102]
    catalog = run_discover(config).catalog.catalog
    rows = {row[0].strip("`"): row for row in table_rows(docs_section("Supported Streams"))}
    assert {stream.name for stream in catalog.streams} == set(rows) - {"Stream"}
    for stream in catalog.streams:
        key = ", ".join(f"`{'.'.join(path)}`" for path in stream.source_defined_primary_key or []) or "—"
        assert rows[stream.name][7] == key, (
            f"docs: with accounts, {stream.name} primary key is {key}, the table says {rows[stream.name][7]}"
        )


def test_docs_explain_every_failure_message_of_the_manifest():
    """Each error the manifest can end a sync with is in Limitations & Troubleshooting."""
    troubleshooting = " ".join(docs_section("Limitations & Troubleshooting").split())
    templates = []

    def collect(node):
        if isinstance(node, dict):
            if node.get("type") == "HttpResponseFilter" and node.get("action") == "FAIL" and node.get("error_message"):
                templates.append(" ".join(node["error_message"].split()))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(MANIFEST["definitions"])
    assert templates
    for template in templates:
        # Each branch between {% … %} tags: its literal parts in order, each {{ … }} may be anything.
        for branch in re.split(r"\{%.*?%\}", template):
            parts = [part.strip() for part in re.split(r"\{\{.*?\}\}", branch) if part.strip()]
            if sum(len(part) for part in parts) < 15:
                continue  # only punctuation around expressions; their texts are checked below
            pattern = ".*?".join(re.escape(part) for part in parts)
            assert re.search(pattern, troubleshooting), f"docs: no troubleshooting row for the message {branch!r}"
        # Texts chosen by a lookup table inside an expression ({'mnemonic': 'text', …}[mnemonic]).
        for text in re.findall(r"'[a-z_]+': '((?:[^'\\]|\\.)*)'", template):
            text = text.replace("\\'", "'").strip()
            assert text in troubleshooting, f"docs: no troubleshooting row says {text!r}"


def test_docs_explain_every_message_of_the_python_tables():
    """The sentences written in Python -- UIS's table of config errors, RIA.com's key errors and quota
    sentence -- are in Limitations & Troubleshooting too (placeholders as `<method>`, `<field>`)."""
    from source_calltracking.components import ria, uis

    troubleshooting = " ".join(docs_section("Limitations & Troubleshooting").split())
    errors = [(m, "<field>") for m in uis.CONFIG_ERRORS] + [(m, "user_id") for m in uis.CLIENT_ERRORS]
    for mnemonic, field in errors:
        said = uis.config_error_message({"mnemonic": mnemonic, "field": field, "message": "x"}, "<method>")
        sentence = said.split(" (The API said:")[0]
        assert sentence in troubleshooting, f"docs: no troubleshooting row for {sentence!r}"
    for code, words in ria.KEY_ERRORS.items():
        assert f"{words} ({code}" in troubleshooting, f"docs: no troubleshooting row for RIA.com's {code}"
    quota = ria.quota_used_up_message(6).split(" after 6 retries")[0]
    assert quota in troubleshooting, "docs: no troubleshooting row for RIA.com's quota sentence"


def test_docs_show_no_raw_templates():
    text = DOCS.read_text()
    assert "{%" not in text and "{{" not in text, "docs: a message template was pasted unrendered"


# ---- metadata.yaml and Dockerfile ---------------------------------------------------------------


def test_metadata_is_complete_for_the_airbyte_registry():
    MetadataFile.from_file(ROOT / "metadata.yaml")  # the CDK's own model of the file
    assert str(uuid.UUID(METADATA["definitionId"])) == METADATA["definitionId"]
    assert METADATA["dockerRepository"] == "airbyte/source-calltracking"
    assert METADATA["dockerImageTag"] == VERSION
    assert (METADATA["connectorType"], METADATA["connectorSubtype"]) == ("source", "api")
    assert METADATA["documentationUrl"] == MANIFEST["spec"]["documentation_url"]
    assert {"language:python", "cdk:low-code"} <= set(METADATA["tags"])
    assert (METADATA["releaseStage"], METADATA["supportLevel"], METADATA["license"]) == ("alpha", "community", "MIT")
    assert METADATA["registryOverrides"]["oss"]["enabled"] is True
    assert (ROOT / METADATA["icon"]).is_file()


def test_allowed_hosts_cover_every_vendor_host_of_the_spec():
    """Every host a provider block names (default or example base_url) is allowed; nothing else."""
    spec_hosts = set()
    for block in PROVIDER_BLOCKS.values():
        base_url = block["properties"].get("base_url", {})
        for url in [base_url.get("default"), *base_url.get("examples", [])]:
            if url:
                spec_hosts.add(urlsplit(url).hostname)
    allowed = set(METADATA["allowedHosts"]["hosts"])
    assert spec_hosts and spec_hosts <= allowed, f"hosts missing from allowedHosts: {spec_hosts - allowed}"
    assert {
        "ckct.ru",
        "api.callkeeper.ru",
        "developers.ria.com",
        "dataapi.uiscom.ru",
        "dataapi.comagic.ru",
        "dataapi.callgear.com",
    } == allowed


def test_dockerfile_and_metadata_pin_the_same_base_image_and_version():
    base = METADATA["connectorBuildOptions"]["baseImage"]
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", base), base
    assert dockerfile_arg("BASE_IMAGE") == base
    assert dockerfile_arg("CONNECTOR_VERSION") == VERSION
    assert 'ENV AIRBYTE_ENTRYPOINT="source-calltracking"' in DOCKERFILE
    assert 'ENTRYPOINT ["source-calltracking"]' in DOCKERFILE
    assert "LABEL io.airbyte.name=airbyte/source-calltracking" in DOCKERFILE
    assert "LABEL io.airbyte.version=${CONNECTOR_VERSION}" in DOCKERFILE


# ---- spec UX ------------------------------------------------------------------------------------


def spec_properties(schema, path=""):
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}{name}", prop
        yield from spec_properties(prop, f"{path}{name}.")


@pytest.mark.parametrize("path,prop", list(spec_properties(SPEC)), ids=[p for p, _ in spec_properties(SPEC)])
def test_every_spec_property_has_a_title_and_a_description(path, prop):
    assert prop.get("title", "").strip(), f"{path} has no title"
    assert len(prop.get("description", "").strip()) >= 15, f"{path} has no real description"


def test_every_level_of_the_form_is_ordered():
    """Every provider block has an `order` (after the common fields), and orders are unique per level."""

    def check(schema, where):
        orders = {name: prop.get("order") for name, prop in schema.get("properties", {}).items()}
        missing = [name for name, order in orders.items() if order is None]
        assert not missing, f"{where}: properties without `order`: {missing}"
        assert len(set(orders.values())) == len(orders), f"{where}: duplicate `order` values {orders}"
        for name, prop in schema.get("properties", {}).items():
            if prop.get("type") == "object":
                check(prop, f"{where}.{name}")

    check(SPEC, "spec")
    assert PROVIDER_BLOCKS
    common = max(p["order"] for p in SPEC["properties"].values() if p.get("type") != "object")
    for name, block in PROVIDER_BLOCKS.items():
        assert block["order"] > common, f"{name} should come after the common fields"
        assert block["properties"]["base_url"]["order"] == max(p["order"] for p in block["properties"].values()), (
            f"{name}.base_url (for proxies and tests) should be the last field of its block"
        )


def test_date_fields_tell_the_format():
    for name in ("start_date", "end_date"):
        prop = SPEC["properties"][name]
        assert prop["pattern"] and prop["pattern_descriptor"] and prop["examples"], name
        for example in prop["examples"]:
            assert re.match(prop["pattern"], example), f"{name} example {example} does not match its pattern"


# The config keys of ../shared/CONTRACT.md's config section: what the contract already names.
CONTRACT_KEYS = {
    "start_date",
    "end_date",
    "lookback_window_days",
    "callkeeper_calltracking",
    "callkeeper",
    "ria",
    "uis",
    "callkeeper_calltracking.api_key",
    "callkeeper_calltracking.role_api_key",
    "callkeeper_calltracking.base_url",
    "callkeeper.api_key",
    "callkeeper.time_zone",
    "callkeeper.statuses",
    "callkeeper.base_url",
    "ria.api_key",
    "ria.user_id",
    "ria.base_url",
    "uis.access_token",
    "uis.user_id",
    "uis.base_url",
}


def test_contract_extensions_name_every_key_and_added_field():
    """Every spec key beyond the contract's, and every field the connector adds to records (the schema
    fields described as "Added by the connector"), is in the docs page's CONTRACT-EXTENSIONS section."""
    import json as _json

    from source_calltracking import SourceCalltracking

    section = docs_section("CONTRACT-EXTENSIONS")
    spec = SourceCalltracking().spec(logger=None).connectionSpecification["properties"]
    keys = set()
    for name, definition in spec.items():
        keys.add(name)
        if definition.get("type") == "object":
            keys |= {f"{name}.{inner}" for inner in definition["properties"]}
    missing = sorted(key for key in keys - CONTRACT_KEYS if f"`{key}`" not in section and key not in CONTRACT_KEYS)
    assert not missing, f"CONTRACT-EXTENSIONS lacks {missing}"
    added = set()
    for path in (ROOT / "schemas").glob("*.json"):
        for field, definition in _json.loads(path.read_text())["properties"].items():
            if str(definition.get("description", "")).startswith("Added by the connector"):
                added.add(field)
    assert {"event_time_utc", "account", "user_id", "_invalid_fields"} <= added
    assert not sorted(f for f in added if f"`{f}`" not in section), "CONTRACT-EXTENSIONS lacks an added field"


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_readme_architecture_matches_the_tree():
    """Every module of source_calltracking/ and components/ is named in the Architecture section, and
    every file or folder the Architecture and Development sections name exists."""
    section = readme_section("Architecture") + readme_section("Development")
    package = ROOT / "source_calltracking"
    for module in sorted(package.glob("*.py")) + sorted((package / "components").glob("*.py")):
        if module.name != "__init__.py":
            assert module.stem in section, f"README Architecture: {module.relative_to(ROOT)} is not named"
    named = set(
        re.findall(
            r"(?<![\w/.<])((?:source_calltracking|testkit|unit_tests|integration_tests|benchmarks|tools|docs|schemas)"
            r"(?:/[\w.*<>]+)*/?)",
            section,
        )
    )
    named |= {f"source_calltracking/components/{name}" for name in re.findall(r"components/(\w+\.py)", section)}
    missing = sorted(path for path in named if not any(c in path for c in "*<") and not (ROOT / path).exists())
    assert not missing, f"README names paths that do not exist: {missing}"


def test_no_code_writes_a_private_attribute_of_another_object():
    """Only the gated patches (cdk_speedups.py, thread_safe_ast.py) may set `obj._name` on an object
    that is not `self` or `cls`: a write into requests or the CDK breaks silently when they change."""
    allowed = {"cdk_speedups.py", "thread_safe_ast.py"}
    found = []
    for folder in ("source_calltracking", "testkit", "unit_tests", "integration_tests", "benchmarks", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name in allowed:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
                for target in targets:
                    for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                        if (
                            isinstance(element, ast.Attribute)
                            and element.attr.startswith("_")
                            and not element.attr.startswith("__")
                            and not (isinstance(element.value, ast.Name) and element.value.id in ("self", "cls"))
                        ):
                            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(element)}")
    assert not found, found

"""Generate the UIS stream schemas and the field lists the UIS requests ask for from tools/uis_fields.yaml.

    python tools/uis_generate.py          # rewrite schemas/uis_*.json and source_calltracking/components/uis_fields.json
    python tools/uis_generate.py --check  # exit 1 (and say what differs) when they are out of date

uis_fields.json holds, per report method, its API version and every documented field, which
`UisRequester` lists in `fields` (the API returns only the "returned by default" ones otherwise).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tools" / "uis_fields.yaml"
SCHEMAS = ROOT / "schemas"
FIELDS = ROOT / "source_calltracking" / "components" / "uis_fields.json"

FORMATS = {
    "YYYY-MM-DD hh:mm:ss": {"format": "date-time", "airbyte_type": "timestamp_without_timezone"},
    "YYYY-MM-DD": {"format": "date"},
}


def load_table(path: Path = TABLE) -> dict[str, dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _with_codes(description: str, codes: Any) -> str:
    """The documented codes go in the description, not in a JSON-schema `enum`: a code the vendor
    adds later would make every record that carries it invalid against the stream's schema."""
    if codes and not all(code in description for code in codes):
        return f"{description} Documented values: {', '.join(codes)}."
    return description


def _property(field: Mapping[str, Any]) -> dict[str, Any]:
    types = [field["type"], *field.get("also", [])]
    prop: dict[str, Any] = {"type": types + ["null"]}
    description = field.get("description", "")
    if field.get("format"):
        prop.update(FORMATS[field["format"]])
        description = f"{description} Format: {field['format']}."
    description = _with_codes(description, field.get("enum"))
    if field["type"] == "array":
        if "items" in field and isinstance(field["items"], list):
            prop["items"] = {
                "type": "object",
                "additionalProperties": True,
                "properties": {sub["name"]: _property(sub) for sub in field["items"]},
            }
        else:
            item = dict(field.get("items") or {"type": "string"})
            description = _with_codes(description, item.pop("enum", None))
            prop["items"] = item
    if field["type"] == "object":
        prop["additionalProperties"] = True
        prop["properties"] = {sub["name"]: _property(sub) for sub in field.get("properties", [])}
    prop["description"] = description
    return prop


# The main timestamp of each report, the source of `event_time_utc` (the manifest's `event_time_field`).
EVENT_TIME_FIELDS = {
    "get.communications_report": "date_time",
    "get.calls_report": "start_time",
    "get.call_legs_report": "start_time",
    "get.goals_report": "date_time",
    "get.chats_report": "date_time",
    "get.chat_messages_report": "date_time",
    "get.offline_messages_report": "date_time",
    "get.visitor_sessions_report": "date_time",
    "get.visitors_report": "first_visit",
    "get.sales_report": "date_time",
    "get.financial_summary_report": "date",
    "get.financial_call_legs_report": "start_time",
    "get.api_requests_report": "date_time",
}


# Added by the connector's type guard to every record (see SchemaTypeGuard).
INVALID_FIELDS = {
    "type": ["object", "null"],
    "additionalProperties": True,
    "description": "Added by the connector: values the API sent with a type the schema does not allow, kept as text under "
    "their field name (the field itself is then null). Null when every value had its type.",
}


# Added by the connector to every row (see UisRecordFields).
USER_ID = {
    "type": ["integer", "null"],
    "description": "Added by the connector: the client user id the row was read for (uis.user_ids or uis.user_id); "
    "null for the token's own account.",
}
EVENT_TIME_UTC = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "Added by the connector: the row's main timestamp ({field}, a time of the account's zone) as a UTC "
    "instant, YYYY-MM-DDThh:mm:ssZ. The same field in every dated stream of every provider.",
}


def schema_for(method_name: str, method: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for field in list(method["fields"]) + list(method.get("added_fields", [])):
        properties[field["name"]] = _property(field)
    properties["user_id"] = USER_ID
    event_field = EVENT_TIME_FIELDS.get(method_name)
    if event_field:
        properties["event_time_utc"] = {
            **EVENT_TIME_UTC,
            "description": EVENT_TIME_UTC["description"].format(field=f"`{event_field}`"),
        }
    properties["_invalid_fields"] = INVALID_FIELDS
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": method["stream"],
        "description": f"UIS Data API v{method['api_version']} {method_name}: every field the documentation lists.",
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }


def schema_text(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def report_fields_json(table: Mapping[str, Any]) -> str:
    """uis_fields.json: per report method, its API version and every documented top-level field."""
    methods = {
        name: {"api_version": method["api_version"], "fields": [f["name"] for f in method["fields"] if not f.get("example_only")]}
        for name, method in table.items()
    }
    return json.dumps(methods, indent=1, ensure_ascii=False) + "\n"


def outputs(table: Mapping[str, Any]) -> dict[Path, str]:
    files = {SCHEMAS / f"{m['stream']}.json": schema_text(schema_for(name, m)) for name, m in table.items()}
    files[FIELDS] = report_fields_json(table)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args()
    stale = []
    for path, text in outputs(load_table()).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(
            "Out of date with tools/uis_fields.yaml (run python tools/uis_generate.py): " + ", ".join(map(str, stale)),
            file=sys.stderr,
        )
        return 1
    if not args.check:
        print("updated: " + (", ".join(map(str, stale)) or "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

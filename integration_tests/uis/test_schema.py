"""UIS records against their JSON schemas: every record of every stream is valid and every documented
field comes back; the requested fields, the schemas and the emulator agree with the field table."""

import json

import jsonschema
import pytest

from integration_tests.helpers import ROOT, SCHEMAS
from integration_tests.uis.helpers import METHODS, STREAMS
from testkit.connector import records_by_stream
from testkit.emulator.uis import TABLE


@pytest.mark.parametrize("stream", STREAMS)
def test_records_match_their_schema(full_refresh, stream):
    _, output = full_refresh
    schema = json.loads((SCHEMAS / f"{stream}.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    records = records_by_stream(output).get(stream, [])
    for record in records:
        validator.validate(record)
    if records:  # every documented field came back (the request listed them all); the CDK drops top-level nulls
        documented = {f["name"] for f in TABLE[METHODS[stream]]["fields"] if not f.get("example_only")}
        seen = set().union(*(record.keys() for record in records))
        assert documented <= seen, documented - seen


def test_requested_fields_schemas_and_emulator_agree_with_the_field_table():
    import subprocess
    import sys

    from source_calltracking.components.uis import REPORT_FIELDS

    check = subprocess.run([sys.executable, str(ROOT / "tools" / "uis_generate.py"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    for method, spec in TABLE.items():
        documented = [f["name"] for f in spec["fields"] if not f.get("example_only")]
        assert REPORT_FIELDS[method] == {"api_version": spec["api_version"], "fields": documented}, method
        schema = json.loads((SCHEMAS / f"{spec['stream']}.json").read_text())
        assert set(documented) <= set(schema["properties"]), method

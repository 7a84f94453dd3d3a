"""The JSON Schema for editors: a valid schema, the shipped flows pass it, broken ones do not."""
from __future__ import annotations

import json

import pytest
import yaml

from ivr.flows.schema import json_schema
from ivr.flows.nodes import KINDS

from conftest import BROKEN, CALL_FLOWS, GOOD

jsonschema = pytest.importorskip("jsonschema")
VALIDATOR = jsonschema.Draft202012Validator(json_schema())

# Mistakes of shape, which an editor can show while ops type.
REJECTED = ["bad_hours", "bad_keys", "bad_number", "bad_transfer_target", "five_mistakes", "missing_required",
            "operator_off_without_reason", "unknown_key", "unknown_kind", "wrong_type"]


def test_it_is_a_draft_2020_12_schema_and_plain_json():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(schema)) == schema


def test_every_node_kind_is_described():
    kinds = [next(iter(option["required"])) for option in json_schema()["$defs"]["node"]["oneOf"]]
    assert kinds == list(KINDS)
    for option in json_schema()["$defs"]["node"]["oneOf"]:
        assert option["description"]


@pytest.mark.parametrize("path", [*sorted(CALL_FLOWS.glob("*.y*ml")), *sorted(GOOD.glob("*.yaml"))], ids=lambda p: p.name)
def test_valid_flows_pass(path):
    errors = [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize("name", REJECTED)
def test_broken_shapes_are_rejected(name):
    assert list(VALIDATOR.iter_errors(yaml.safe_load((BROKEN / f"{name}.yaml").read_text())))


def test_a_misspelt_top_level_key_is_pointed_at():
    flow = yaml.safe_load((GOOD / "tricky_but_valid.yaml").read_text())
    flow["operater"] = flow.pop("operator")
    [error] = VALIDATOR.iter_errors(flow)
    assert "operater" in error.message

"""Shared paths and a helper for the flow-language tests."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ivr.flows.loader import load_text

HERE = Path(__file__).parent
REPO = HERE.parent.parent
BROKEN = HERE / "broken"
GOOD = HERE / "good"
AUDIO = HERE / "audio"
CALL_FLOWS = REPO / "call_flows"


def problems_of(yaml_text: str, file: str = "test.yaml"):
    """Every problem of one flow given as (dedented) text."""
    flow, problems = load_text(textwrap.dedent(yaml_text), file, AUDIO)
    return flow, problems


@pytest.fixture
def check():
    return problems_of

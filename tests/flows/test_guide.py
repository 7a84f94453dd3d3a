"""docs/GUIDE.md tells ops the truth: every flow in it validates as printed, every
script in it passes on the demo line, every node kind has an example, and its reference
section is what the schema makes today."""
from __future__ import annotations

import io
import re

import pytest
from conftest import CALL_FLOWS, REPO

from ivr.flows.library import FlowLibrary
from ivr.flows.loader import load_paths
from ivr.flows.nodes import KINDS
from ivr.flows.reference import BEGIN, END, markdown_reference, with_reference
from ivr.simulate import Simulator, run_script

GUIDE = REPO / "docs" / "GUIDE.md"
TEXT = GUIDE.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```yaml\n(.*?)^```$", TEXT, re.S | re.M)
FLOWS = [b for b in BLOCKS if re.search(r"^flow: ", b, re.M)]
SCRIPTS = [b for b in BLOCKS if re.search(r"^steps:", b, re.M)]


def test_every_yaml_block_is_a_flow_or_a_script():
    assert len(FLOWS) >= len(KINDS) + 3
    assert len(FLOWS) + len(SCRIPTS) == len(BLOCKS)


@pytest.mark.parametrize("text", FLOWS, ids=[re.search(r"^flow: (\S+)", b, re.M).group(1) for b in FLOWS])
def test_every_flow_in_the_guide_validates_clean(text, tmp_path, monkeypatch):
    monkeypatch.delenv("ORDER_API", raising=False)
    path = tmp_path / "guide-example.yaml"
    path.write_text(text, encoding="utf-8")
    shipped = sorted(CALL_FLOWS.glob("*.y*ml"))  # loaded too: a goto may name one of them
    loaded = load_paths([path, *shipped], REPO / "audio")
    mine = [f"{p.where.line}:{p.where.col}: {p.severity}: {p.message}" for p in loaded.problems
            if p.where.file == str(path)]
    assert mine == []
    assert any(f.path == str(path) for f in loaded.flows.values())


def test_every_node_kind_has_an_example_of_its_own():
    for kind in KINDS:
        section = TEXT.split(f"### `{kind}`", 1)
        assert len(section) == 2, f"no example section for {kind}"
        block = re.search(r"^```yaml\n(.*?)^```$", section[1], re.S | re.M)
        assert block is not None and re.search(rf"^    {kind}:", block.group(1), re.M), kind


@pytest.mark.parametrize("text", SCRIPTS)
def test_every_script_in_the_guide_passes_on_the_demo_line(text, tmp_path):
    import yaml
    script = yaml.safe_load(text)
    library = FlowLibrary(CALL_FLOWS, REPO / "audio")
    library.reload()
    from ivr.simulate import _parse_at
    sim = Simulator(library, "acme-support", caller=str(script.get("caller", "+15551230000")),
                    at=_parse_at(script["at"]) if "at" in script else None)
    err = io.StringIO()
    assert run_script(sim, script["steps"], err) == 0, err.getvalue()


def test_the_reference_section_is_what_the_schema_makes():
    committed = TEXT.split(BEGIN, 1)[1].split(END, 1)[0]
    assert committed == "\n" + markdown_reference(), \
        "docs/GUIDE.md is out of date: run python -m ivr.flows.schema --guide docs/GUIDE.md"
    assert with_reference(TEXT) == TEXT


def test_the_reference_lists_every_kind_and_every_key_of_a_kind():
    reference = markdown_reference()
    for kind in KINDS:
        assert f"### `{kind}`" in reference
    assert "| `slot.kind` |" in reference and "| `http.fields` |" in reference


def test_the_markdown_command_prints_the_reference(capsys):
    from ivr.flows.schema import main
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown_reference()

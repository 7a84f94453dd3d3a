"""The broken-flow corpus: each file in broken/ declares, in its header, exactly the
problems ``ivr validate`` must find (``# expect: LINE:COL: message part`` for errors,
``# warn: ...`` for warnings). Nothing more may be reported, so a check that starts
shouting about things it should not is caught too."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.flows.loader import load_paths

from conftest import AUDIO, BROKEN, CALL_FLOWS, GOOD

EXPECT = re.compile(r"^# (expect|warn): (\d+):(\d+): (.+)$")
FILES = sorted(BROKEN.glob("*.yaml"))


def declared(path: Path) -> list[tuple[str, int, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = EXPECT.match(line)
        if m:
            out.append(("error" if m.group(1) == "expect" else "warning", int(m.group(2)), int(m.group(3)), m.group(4)))
    return out


def test_the_corpus_is_big_enough():
    assert len(FILES) >= 30
    assert all(declared(f) for f in FILES), [f.name for f in FILES if not declared(f)]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_broken_flow_reports_exactly_what_it_declares(path: Path):
    loaded = load_paths([path], AUDIO)
    found = [(p.severity, p.where.line, p.where.col, p.message) for p in loaded.problems]
    assert all(p.where.file == str(path) for p in loaded.problems)
    unmatched = []
    for severity, line, col, part in declared(path):
        hit = next((f for f in found if f[0] == severity and f[1] == line and f[2] == col and part in f[3]), None)
        if hit is None:
            unmatched.append(f"{severity} {line}:{col}: {part}")
        else:
            found.remove(hit)
    assert not unmatched, f"not reported: {unmatched}; reported instead: {found}"
    assert not found, f"reported but not declared: {found}"
    if any(s == "error" for s, *_ in declared(path)):
        assert path.stem.replace("_", "-") not in loaded.flows  # a flow with errors is refused


def test_a_file_with_five_mistakes_gives_five_errors_at_once():
    loaded = load_paths([BROKEN / "five_mistakes.yaml"], AUDIO)
    assert len(loaded.errors) == 5
    assert not loaded.flows


@pytest.mark.parametrize("path", sorted(GOOD.glob("*.yaml")), ids=lambda p: p.name)
def test_tricky_but_valid_flows_load_without_any_problem(path: Path):
    loaded = load_paths([path], AUDIO)
    assert loaded.problems == []
    assert len(loaded.flows) == 1


def test_every_shipped_flow_validates_clean():
    files = sorted(CALL_FLOWS.glob("*.y*ml"))  # loaded together: a goto may name another of them
    loaded = load_paths(files, CALL_FLOWS.parent / "audio")
    assert loaded.errors == []
    assert len(loaded.flows) == len(files)
    demo = str(CALL_FLOWS / "acme-support.yaml")
    assert [p for p in loaded.problems if p.where.file == demo] == []

"""YAML mistakes told in plain words: each common mistake at the line to fix, and any
mistake at all gives one problem inside the file, never a crash."""
from __future__ import annotations

import textwrap

import yaml
from conftest import CALL_FLOWS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.flows.yamlerrors import explain
from ivr.flows.yamlpos import parse_yaml

DEMO = (CALL_FLOWS / "acme-support.yaml").read_text(encoding="utf-8")


def problem_of(text: str):
    problems: list = []
    assert parse_yaml(textwrap.dedent(text), "f.yaml", problems) is None
    [problem] = problems
    return problem.where.line, problem.where.col, problem.message, problem.hint


def test_a_tab_after_a_colon_is_a_tab():
    line, _col, message, hint = problem_of('nodes:\n  main:\n    say:\t"hi"\n  \tgo: x\n')
    assert message.startswith("a tab character") and "spaces" in hint
    assert line in (3, 4)


def test_an_apostrophe_in_single_quotes_is_explained_with_the_fix():
    line, col, _message, hint = problem_of("nodes:\n  main:\n    say: 'It's open'\n")
    assert (line, col) == (3, 13)
    assert hint.endswith("""say: "It's open\"""")


def test_a_list_item_out_of_line_is_named():
    text = 'options:\n  - {keys: "1", go: a}\n   - {keys: "2", go: b}\n'
    line, col, message, _ = problem_of(text)
    assert (line, col) == (3, 4) and message.startswith("this list item is indented 3 spaces")


def test_an_unclosed_bracket_points_where_it_opens():
    line, col, message, _ = problem_of("nodes:\n  main:\n    say: [a, b\n    go: desk\n")
    assert (line, col) == (3, 10) and message == "this [ is never closed with ]"


def test_a_key_without_colon_points_at_where_the_colon_belongs():
    line, col, _message, hint = problem_of("nodes:\n  main:\n    say: hi\n    go desk\n  desk:\n    x: y\n")
    assert (line, col) == (4, 7) and hint == "write it as 'go: desk'"


def test_an_unknown_error_keeps_pyyamls_words_with_a_hint():
    exc = yaml.scanner.ScannerError(problem="something new", problem_mark=yaml.Mark("f", 0, 0, 0, None, None))
    problem = explain(exc, "a: 1\n", "f.yaml")
    assert problem.message == "YAML cannot read this: something new" and problem.hint


MUTATIONS = st.sampled_from(["tab", "drop colon", "indent", "outdent", "quote", "bracket", "colon space"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=st.integers(0, DEMO.count("\n") - 1), mutation=MUTATIONS)
def test_any_broken_line_gives_one_problem_inside_the_file(line, mutation):
    lines = DEMO.splitlines()
    text = lines[line]
    lines[line] = {
        "tab": "\t" + text.lstrip(" "),
        "drop colon": text.replace(":", "", 1),
        "indent": " " + text,
        "outdent": text[1:] if text.startswith(" ") else text,
        "quote": text + ' "',
        "bracket": text.replace("]", "", 1),
        "colon space": text + ": x",
    }[mutation]
    problems: list = []
    parse_yaml("\n".join(lines) + "\n", "f.yaml", problems)
    assert len(problems) <= 1 or all(not p.message.startswith(("YAML", "a tab")) for p in problems)
    for problem in problems:
        assert 1 <= problem.where.line <= len(lines) + 1
        assert problem.where.col >= 1
        assert "Traceback" not in problem.message

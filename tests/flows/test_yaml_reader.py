"""Reading a flow file's YAML: the same positions with libyaml as without it, and a file
built to hurt (aliases that multiply, a huge file, endless nesting) refused at once with
one problem an ops person can act on."""
from __future__ import annotations

import gc
import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.flows import yamlpos
from ivr.flows.loader import load_paths, load_text
from ivr.flows.yamlpos import LIMITS, WITH_LIBYAML, Limits, Y, parse_yaml
from ivr.model.problems import Problem

from conftest import AUDIO, BROKEN, CALL_FLOWS, GOOD

needs_libyaml = pytest.mark.skipif(not WITH_LIBYAML, reason="PyYAML was built without libyaml")

# Ten levels of nine: a billion "lol"s once expanded, 526 bytes as written.
BOMB = """\
# A flow whose lists each repeat the last nine times
flow: laughs
operator: {to: desk}
start: main
nodes:
  main: {say: "hi", go: desk}
  desk: {transfer: {to: [queue:support]}}
l0: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
l1: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
l2: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
l3: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
l4: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
l5: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
l6: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
l7: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
l8: [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

SMALL_FLOW = """\
flow: small
operator: {to: desk}
start: main
nodes:
  main:
    say: "Hello."
    go: desk
  desk:
    transfer:
      to: &agents [client:alice, queue:support]
      fallback: other
  other:
    transfer:
      to: *agents
"""


@pytest.fixture
def within_seconds() -> Iterator[None]:
    """Fail a test that would otherwise run for minutes (the old reader did, on the bomb)."""
    def too_slow(signum, frame):
        raise AssertionError("still reading after 10 seconds")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, 10)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def read(text: str, **options) -> tuple[Y | None, list[Problem]]:
    problems: list[Problem] = []
    return parse_yaml(text, "f.yaml", problems, **options), problems


def shape(y: Y | None):
    """Everything a ``Y`` tree says: values, positions, keys' positions, raw text."""
    if y is None:
        return None
    if isinstance(y.value, dict):
        return ("map", tuple(y.where.__dict__.values()), [(k, tuple(y.key_where[k].__dict__.values()), shape(v))
                                                          for k, v in y.value.items()])
    if isinstance(y.value, list):
        return ("list", tuple(y.where.__dict__.values()), [shape(v) for v in y.value])
    return ("scalar", tuple(y.where.__dict__.values()), repr(y.value), y.raw)


def assert_same_both_ways(text: str) -> None:
    fast, fast_problems = read(text)
    slow, slow_problems = read(text, pure=True)
    assert shape(fast) == shape(slow)
    assert fast_problems == slow_problems


# --- the same positions with and without libyaml ---------------------------------------------

FILES = sorted([*CALL_FLOWS.glob("*.y*ml"), *GOOD.glob("*.yaml"), *BROKEN.glob("*.yaml")])

TRICKY = {
    "block scalars": "a: >-\n  folded\n  text\nb: |\n  kept\n   lines\nc: x\n",
    "flow collections": "a: {b: [1, 2, {c: d}], e: 'f'}\ng: [h, \"i\", j: k]\n",
    "crlf and old mac breaks": "a: 1\r\nb: [x,\r\n  y]\rc: 3\n",
    "unicode line breaks": "a: 1\x85b: 2\u2028c: 3\u2029d: 4\n",
    "wide characters": "안내: \"안녕하세요 😀\"\nb: [x, 😀, 가나다]\n",
    "byte order mark": "\ufeffflow: x\nb: 1\n",
    "explicit keys": "? a\n: 1\n? [b]\n: 2\n",
    "comments and blanks": "# top\n\na: 1  # after\n\n\n  # indented\nb:\n  - c\n",
    "yes no and numbers": "a: yes\nb: no\nc: 0x1F\nd: 1_000\ne: .5\nf: 2026-12-25\ng: ~\nh:\n",
    "duplicate and odd keys": "a: 1\na: 2\n[x]: 3\n1: 4\nyes: 5\n",
    "anchors and aliases": "a: &x {b: 1, b: 2}\nc: *x\nd: &y hello\n*y : 5\n",
    "bad values": "a: !!int x\nb: !custom 1\n!!int q: 1\n",
    "tabs inside values": "a: \"x\ty\"\nb: 'tab\there'\n",
    "syntax error libyaml words differently": '"a\\q": 1\n',
    "syntax error indentation": "a:\n  b: 1\n c: 2\n",
    "undefined alias": "a: *nope\n",
    "duplicate anchor": "a: &x 1\nb: &x 2\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "empty": "",
    "only a comment": "# nothing\n",
    "a bare scalar": "hello\n",
}


@needs_libyaml
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_libyaml_and_python_give_the_same_positions_for_every_flow_file(path: Path):
    assert_same_both_ways(path.read_text(encoding="utf-8"))


@needs_libyaml
@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
def test_libyaml_and_python_agree_on_tricky_yaml(text: str):
    assert_same_both_ways(text)


values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    max_leaves=25,
)


@needs_libyaml
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values, flow_style=st.sampled_from([None, False, True]), indent=st.integers(2, 6),
       width=st.sampled_from([20, 80, 1000]), unicode=st.booleans(), crlf=st.booleans())
def test_any_yaml_a_writer_produces_reads_the_same_both_ways(value, flow_style, indent, width, unicode, crlf):
    text = yaml.safe_dump({"root": value}, default_flow_style=flow_style, indent=indent, width=width,
                          allow_unicode=unicode, line_break="\r\n" if crlf else "\n")
    assert_same_both_ways(text)


def test_without_libyaml_the_python_composer_reads_the_same(monkeypatch):
    text = (CALL_FLOWS / "acme-support.yaml").read_text(encoding="utf-8")
    expected = shape(read(text)[0])
    monkeypatch.setattr(yamlpos, "_CLoader", None)
    assert shape(read(text)[0]) == expected


def test_a_syntax_error_reads_as_the_python_composer_says_it():
    _, problems = read('"a\\q": 1\n')
    [problem] = problems
    assert (problem.where.line, problem.where.col) == (1, 3)  # the backslash
    assert problem.message == "inside double quotes, \\q is not something YAML knows"


# --- aliases that multiply --------------------------------------------------------------------

def test_the_alias_bomb_is_refused_at_once_with_one_problem(tmp_path: Path, within_seconds):
    path = tmp_path / "laughs.yaml"
    path.write_text(BOMB, encoding="utf-8")
    assert path.stat().st_size == 526
    tracemalloc.start()
    try:
        loaded = load_paths([path], AUDIO)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [problem] = loaded.problems
    assert str(problem.where) == f"{path}:12:9"  # the first alias that takes it past the limit: l4's first *d
    assert problem.message == "this alias (*d) takes the values repeated by YAML aliases past 10,000; flows allow at most 10,000"
    assert "write the repeated part out" in problem.hint
    assert not loaded.flows
    assert peak < 20 * 1024 * 1024


def test_the_alias_bomb_is_refused_by_the_python_composer_too(within_seconds):
    y, problems = read(BOMB, pure=True)
    assert y is None
    assert [(p.where.line, p.where.col) for p in problems] == [(12, 9)]


def test_too_many_aliases_are_refused_at_the_first_one_over_the_limit():
    text = "a: &x 1\n" + "".join(f"b{i}: *x\n" for i in range(12))
    y, problems = read(text, limits=Limits(max_aliases=10))
    assert y is None
    [problem] = problems
    assert (problem.where.line, problem.where.col) == (12, 6)  # the 11th use of *x
    assert problem.message == "this file uses YAML aliases (*name) 12 times; flows allow at most 10"


def test_an_alias_inside_its_own_anchor_is_refused():
    y, problems = read("a: &loop [1, *loop]\n")
    assert y is None
    [problem] = problems
    assert (problem.where.line, problem.where.col) == (1, 14)
    assert "the alias *loop is used inside the value it names (&loop)" in problem.message


def test_ordinary_aliases_still_work_and_point_at_their_anchor():
    flow, problems = load_text(SMALL_FLOW, "small.yaml", AUDIO)
    assert problems == []
    assert flow is not None
    assert flow.nodes["desk"].targets == flow.nodes["other"].targets == ("client:alice", "queue:support")  # type: ignore[attr-defined]
    y, _ = read(SMALL_FLOW)
    assert y is not None
    desk_to = y.value["nodes"].value["desk"].value["transfer"].value["to"]
    other_to = y.value["nodes"].value["other"].value["transfer"].value["to"]
    assert other_to is desk_to  # the alias shares its anchor's values, not a copy
    assert (other_to.where.line, other_to.where.col) == (10, 11)


def test_the_demo_line_with_its_aliases_loads_clean():
    loaded = load_paths(sorted(CALL_FLOWS.glob("*.y*ml")), CALL_FLOWS.parent / "audio")
    assert loaded.errors == []


def test_a_mistake_inside_an_anchored_value_is_reported_once():
    _, problems = read("a: &x {b: 1, b: 2}\nc: *x\nd: *x\n")
    assert [(p.where.line, p.where.col, p.message) for p in problems] == [(1, 14, "'b' is given twice")]


# --- size and nesting -------------------------------------------------------------------------

def test_a_file_over_four_mebibytes_is_refused_before_it_is_parsed(tmp_path: Path, within_seconds):
    path = tmp_path / "huge.yaml"
    path.write_text("flow: huge\n" + "# 가나다라마바사아자차카타파하\n" * 100_000, encoding="utf-8")  # 1.7 M characters, 4.3 MiB
    loaded = load_paths([path], AUDIO)
    [problem] = loaded.problems
    assert (problem.where.line, problem.where.col) == (1, 1)
    assert problem.message.startswith("this file is 4.3 MiB (4,500,011 bytes); ")
    assert problem.message.endswith("a flow file may be at most 4.0 MiB (4,194,304 bytes)")
    assert "goto" in problem.hint


def test_the_size_limit_is_the_callers_to_set():
    assert LIMITS.max_bytes == 4 * 1024 * 1024
    y, problems = read(SMALL_FLOW, limits=Limits(max_bytes=100))
    assert y is None
    assert problems[0].message == f"this file is {len(SMALL_FLOW):,} bytes; a flow file may be at most 100 bytes"
    y, problems = read(SMALL_FLOW, limits=Limits(max_bytes=len(SMALL_FLOW)))
    assert y is not None and problems == []


def test_values_nested_too_deep_are_refused_where_they_go_over():
    text = "a: " + "[" * 70 + "]" * 70 + "\n"
    y, problems = read(text)
    assert y is None
    [problem] = problems
    assert (problem.where.line, problem.where.col) == (1, 3 + 64)  # the 64th bracket, level 65 under the top mapping
    assert problem.message == "values are nested 65 levels deep here; flows allow at most 64"


def test_nesting_too_deep_for_the_python_composer_is_a_problem_not_a_crash():
    text = "a: " + "[" * 2000 + "]" * 2000 + "\n"
    for pure in (False, True):
        y, problems = read(text, pure=pure)
        assert y is None
        assert [p.message for p in problems] == ["values are nested too deeply; flows allow at most 64 levels"]


def test_nesting_through_an_alias_counts_the_levels_it_brings():
    text = "a: &deep [[[[1]]]]\nb: [[[*deep]]]\n"
    y, problems = read(text, limits=Limits(max_depth=7))
    assert y is None
    [problem] = problems
    assert (problem.where.line, problem.where.col) == (2, 7)
    assert problem.message == "with this alias (*deep), values are nested 9 levels deep; flows allow at most 7"
    assert read(text, limits=Limits(max_depth=9))[1] == []


# --- reading costs what the file holds -----------------------------------------------------------

def test_the_garbage_collector_waits_until_a_file_is_read():
    text = "nodes:\n" + "".join(f"  n{i}: {{say: \"Hello {i}.\", go: n{i + 1}, list: [a, b, {{c: d}}]}}\n"
                                for i in range(3000))
    runs: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(count)
    try:
        y, problems = read(text)
    finally:
        gc.callbacks.remove(count)
    assert y is not None and problems == []
    assert len(runs) <= 1  # at most one collection, once the collector is back (of whatever generation is due)
    assert gc.isenabled()


def test_the_garbage_collector_is_left_as_it_was_found():
    gc.disable()
    try:
        read(SMALL_FLOW)
        assert not gc.isenabled()
    finally:
        gc.enable()
    read(SMALL_FLOW)
    read("a: [\n")
    assert gc.isenabled()


def test_each_value_is_converted_once_whatever_the_aliases():
    text = "a: &x [1, 2, 3]\n" + "".join(f"b{i}: [*x, *x]\n" for i in range(40))
    y, problems = read(text)
    assert problems == []
    assert y is not None
    lists = [y.value[f"b{i}"].value for i in range(40)]
    assert all(first is y.value["a"] and second is y.value["a"] for first, second in lists)


def test_a_value_yaml_cannot_read_is_a_problem_where_it_stands():
    y, problems = read("a: !!int x\nb: !custom 1\n!!int q: 1\nc: ok\n")
    assert y is not None and y.plain() == {"a": None, "b": None, "c": "ok"}
    assert [(p.where.line, p.where.col, p.message) for p in problems] == [
        (1, 4, "bad value: invalid literal for int() with base 10: 'x'"),
        (2, 4, "bad value: could not determine a constructor for the tag '!custom'"),
        (3, 1, "bad value: invalid literal for int() with base 10: 'q'"),
    ]

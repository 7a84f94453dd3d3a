"""Whole-flow checks, case by case: what is flagged, what is not, and the hints."""
from __future__ import annotations

from ivr.flows.loader import load_paths

from conftest import AUDIO

HEAD = """\
flow: t
operator: {to: desk}
start: main
nodes:
  desk:
    transfer:
      to: [queue:support]
"""


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def test_a_typo_in_go_does_not_also_make_the_intended_node_unreachable(check):
    _, problems = check(HEAD + """\
  main:
    say: "Hi."
    go: ordr
  order:
    say: "Orders."
    go: desk
""")
    assert [p.message for p in problems] == ["'ordr' is not a node of this flow (go of main)"]
    assert problems[0].hint == "did you mean 'order'?"


def test_the_hint_for_an_unset_slot_shows_a_path_where_it_is_not_set(check):
    _, problems = check(HEAD + """\
  main:
    menu:
      prompt: "1 or 2"
      options:
        - {keys: "1", go: ask}
        - {keys: "2", go: skip}
  skip:
    say: "Skipping."
    go: tell
  ask:
    collect: {prompt: "Number?", slot: {name: n}, go: tell}
  tell:
    say: "You said {n}."
    go: desk
""")
    [problem] = problems
    assert problem.message == "field 'n' may not be set when the call reaches say 'tell'"
    assert (problem.where.line, problem.where.col) == (20, 20)  # the "{" of {n}
    assert "main -> skip -> tell" in problem.hint


def test_a_slot_collected_again_on_a_loop_is_set_on_every_path(check):
    flow, problems = check(HEAD + """\
  main:
    collect: {prompt: "Number?", slot: {name: n}, go: check}
  check:
    lookup:
      table: {key: "{n}", rows: {"1": {x: y}}}
      found: tell
      not_found: again
  again:
    collect: {prompt: "{n} was not found. Number?", slot: {name: n}, go: check}
  tell:
    say: "{n}: {lookup.x}"
    go: desk
""")
    assert problems == [] and flow is not None


def test_the_operator_key_inside_a_menu_is_fine_when_the_menu_opts_out(check):
    _, problems = check(HEAD + """\
  main:
    menu:
      prompt: "0 to leave a message, 1 for help."
      operator_off: "0 leaves a message here"
      options:
        - {keys: "0", say: [message], go: msg}
        - {keys: "1", say: [help, agent], go: desk}
  msg:
    voicemail: {go: bye}
  bye:
    hangup: "Bye."
""")
    assert problems == []


def test_a_person_phrase_that_goes_to_the_operator_target_anyway_is_only_a_warning(check):
    _, problems = check(HEAD + """\
  main:
    menu:
      prompt: "Billing, or a person."
      options:
        - {keys: "1", say: [billing], go: desk}
        - {keys: "2", say: [talk to a person], go: desk}
""")
    assert [(p.severity, p.where.line, p.where.col) for p in problems] == [("warning", 13, 29)]


def test_a_loop_through_a_prompt_is_not_an_endless_loop(check):
    _, problems = check(HEAD + """\
  main:
    menu:
      prompt: "1 to hear it again, 2 for a person."
      options:
        - {keys: "1", go: again}
        - {keys: "2", go: desk}
  again:
    say: "Again."
    go: main
""")
    assert problems == []


def test_a_self_loop_is_named(check):
    _, problems = check(HEAD + """\
  main:
    say: "Hello."
    go: main
""")
    [problem] = errors(problems)
    assert problem.message == "endless loop without a prompt: main -> main"


def test_an_operator_target_that_only_says_something_before_a_transfer_is_accepted(check):
    _, problems = check("""\
flow: t
operator: {to: connecting}
start: main
nodes:
  main:
    menu:
      prompt: "1 or 2"
      options:
        - {keys: "1", go: desk}
        - {keys: "2", go: desk}
  connecting:
    say: "Connecting you."
    go: desk
  desk:
    transfer: {to: [queue:support]}
""")
    assert problems == []


def test_flows_without_prompts_need_no_operator(check):
    flow, problems = check("""\
flow: t
start: main
nodes:
  main:
    say: "We have moved. Goodbye."
    go: bye
  bye:
    hangup: "Goodbye."
""")
    assert problems == [] and flow is not None


def test_goto_across_files_is_checked_when_flows_load_together(tmp_path):
    (tmp_path / "a.yaml").write_text("flow: a\nstart: go\nnodes:\n  go:\n    goto: b\n")
    (tmp_path / "b.yaml").write_text("flow: b\nstart: bye\nnodes:\n  bye:\n    hangup: Bye.\n")
    loaded = load_paths(sorted(tmp_path.glob("*.yaml")), AUDIO)
    assert loaded.problems == [] and set(loaded.flows) == {"a", "b"}
    alone = load_paths([tmp_path / "a.yaml"], AUDIO)
    assert [p.message for p in alone.errors] == ["goto 'go' names flow 'b', which is not loaded"]


def test_positions_stay_right_after_an_option_that_could_not_be_read(check):
    _, problems = check(HEAD + """\
  main:
    menu:
      prompt: "1 or 2"
      options:
        - just words
        - {keys: "1", go: desk}
        - {keys: "1", go: desk}
""")
    assert [(p.message, p.where.line, p.where.col) for p in problems] == [
        ("option 1 of menu 'main' must be a mapping of keys, not text", 12, 11),
        ("key '1' is already option 1 of menu 'main'", 14, 18),
    ]

"""The flow-level ``survey:`` and ``wrap_up:``: read with positions like every prompt,
every mistake reported with file:line:col and a hint, in the schema and the graph."""
from __future__ import annotations

import pytest
import yaml

from ivr.flows import graph
from ivr.flows.schema import json_schema
from ivr.model.flow import DEFAULT_WRAP_UP

jsonschema = pytest.importorskip("jsonschema")

LINE = """\
flow: rated
language: en-US
operator: {{to: desk}}
{extra}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for hours."
      options:
        - {{keys: "1", go: hours}}
  hours:
    say: "We are open from 9 to 5."
    go: bye
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {{to: [client:ann], reason: "Asked for a person"}}
"""


def load(check, extra):
    return check(LINE.format(extra=extra))


def errors(problems):
    return [(p.where.line, p.where.col, p.message, p.hint) for p in problems if p.severity == "error"]


def test_a_survey_in_two_languages_and_a_wrap_up_list(check):
    flow, problems = load(check, """\
survey:
  question:
    en-US: "Please rate this call from 1 to 5."
    ko-KR: "이번 통화를 1점에서 5점으로 평가해 주세요."
  comment: "After the tone, tell us more."
  offer: [agent]
  max_comment: 30
wrap_up: [order question, complaint]""")
    assert errors(problems) == []
    assert flow.survey.question.for_language("ko-KR").text.startswith("이번 통화를")
    assert flow.survey.offer == ("agent",) and flow.survey.max_comment == 30 and flow.survey.comment
    assert not flow.survey.thanks  # the line's own words are said instead
    assert flow.wrap_up == ("order question", "complaint")


def test_without_them_there_is_no_survey_and_the_default_codes(check):
    flow, problems = load(check, "")
    assert errors(problems) == [] and flow.survey is None and flow.wrap_up == DEFAULT_WRAP_UP


@pytest.mark.parametrize("extra, line, col, message", [
    ("survey:\n  thanks: \"Thanks.\"", 5, 3, "the survey needs 'question'"),
    ("survey:\n  question: \"Rate your order {order_id} from 1 to 5.\"", 5, 13, "names {order_id}"),
    ("survey:\n  question:\n    ko-KR: \"평가해 주세요.\"", 6, 5, "not in the flow's language en-US"),
    ("survey:\n  question: \"Rate us.\"\n  offer: [always]", 6, 11, "not 'always'"),
    ("survey:\n  question: \"Rate us.\"\n  thankyou: \"Thanks.\"", 6, 3, "unknown key 'thankyou'"),
    ("survey:\n  question: \"Rate us.\"\n  max_comment: 900", 6, 16, "from 5 to 180"),
    ("wrap_up: [resolved, Resolved]", 4, 10, "listed twice"),
    ("wrap_up: []", 4, 10, "lists no codes"),
])
def test_each_mistake_is_pointed_at(check, extra, line, col, message):
    _, problems = load(check, extra)
    found = errors(problems)
    assert [(ln, c) for ln, c, m, _ in found if message in m] == [(line, col)], found


def test_the_misspelt_key_gets_a_hint(check):
    _, problems = load(check, "survey:\n  question: \"Rate us.\"\n  thankyou: \"Thanks.\"")
    [(_, _, _, hint)] = errors(problems)
    assert "thanks" in hint


def test_the_schema_describes_both_and_checks_their_shape():
    validator = jsonschema.Draft202012Validator(json_schema())
    good = yaml.safe_load(LINE.format(extra="survey: {question: \"Rate us.\", offer: [agent]}\nwrap_up: [x]"))
    assert list(validator.iter_errors(good)) == []
    bad = yaml.safe_load(LINE.format(extra="survey: {question: \"Rate us.\", offer: [always]}\nwrap_up: [x]"))
    assert list(validator.iter_errors(bad))
    assert "survey" in json_schema()["properties"] and "wrap_up" in json_schema()["properties"]


def test_the_graph_draws_where_the_survey_is_asked(check):
    flow, _ = load(check, "survey: {question: \"Rate us.\"}")
    drawn = graph.mermaid(flow)
    assert "survey after the call" in drawn and '-.-|"served"| survey' in drawn
    assert drawn.count('-.-|"agent hung up"| survey') == 1  # the one transfer
    dot = graph.dot(flow)
    assert '"bye" -> "(survey)"' in dot and '"desk" -> "(survey)"' in dot
    flow, _ = load(check, "")
    assert "survey" not in graph.mermaid(flow)

"""``branch``: go one way or another on what is known about the call.

```yaml
route_balance:
  branch:
    - if: {lookup.balance: {gt: 0}}
      go: balance_due
    - if: {caller: {starts_with: "+44"}, time: {before: "12:00"}}
      go: uk_morning
    - else: balance_clear
```
Variables: slot names, ``lookup.FIELD``, ``caller``, ``verified``, ``time`` (HH:MM in the
flow's time zone), ``weekday`` (mon..sun), ``date`` (YYYY-MM-DD). A plain value means
"equals"; tests: equals, not, in, gt, ge, lt, le, starts_with, matches, set, before, after.
All tests of one ``if`` must hold.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ivr.model.flow import Node
from ivr.model.problems import Where, did_you_mean

from ..positions import body, find, node_where
from ..reader import Context, Reader, kind_name
from ..schema_parts import obj, ref
from ..yamlpos import Y
from .base import FieldUse, NodeKind, Step

__all__ = ["BranchNode", "Case", "Test", "TESTS", "BUILT_IN_VARS", "variables", "holds", "KIND"]

TESTS = ("equals", "not", "in", "gt", "ge", "lt", "le", "starts_with", "matches", "set", "before", "after")
BUILT_IN_VARS = ("caller", "verified", "time", "weekday", "date")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Test:
    var: str
    op: str
    value: Any


@dataclass(frozen=True)
class Case:
    tests: tuple[Test, ...]
    go: str


@dataclass(frozen=True)
class BranchNode(Node):
    cases: tuple[Case, ...] = ()
    otherwise: str = ""

    kind = "branch"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return tuple((f"case {i}", c.go) for i, c in enumerate(self.cases, 1)) + (("else", self.otherwise),)

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.var for c in self.cases for t in c.tests))


class Branch(NodeKind[BranchNode]):
    key = "branch"
    node = BranchNode
    description = "Go one way or another."
    rank = 50
    automatic = True
    dot_shape = "diamond"

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> BranchNode:
        owner = f"branch '{node_id}'"
        if not isinstance(body.value, list) or not body.value:
            ctx.error(body.where, f"{owner} must be a list of '- if: ... go: ...' cases ending with '- else: NODE'")
            return BranchNode(node_id, node.y.where)
        cases: list[Case] = []
        otherwise = ""
        for i, item in enumerate(body.value, 1):
            r = Reader(item, ctx, f"case {i} of {owner}")
            if not r.ok:
                continue
            if r.has("else"):
                otherwise = r.ref("else", node_id, label="else")
                if i != len(body.value):
                    ctx.error(item.where, f"'else' must be the last case of {owner}")
                r.done()
                continue
            cond = r.get("if")
            tests: list[Test] = []
            if cond is None:
                r.missing("if", "each case is '- if: {slot: value}' with a 'go', or the final '- else: NODE'")
            elif not isinstance(cond.value, dict) or not cond.value:
                ctx.error(cond.where, f"'if' of case {i} of {owner} must map variables to tests")
            else:
                for var, test in cond.value.items():
                    tests.extend(_tests(var, test, cond.key_where[var], ctx))
            go = r.ref("go", node_id, label=f"case {i}")
            r.done()
            cases.append(Case(tuple(tests), go))
        if not otherwise:
            ctx.error(body.where, f"{owner} has no '- else: NODE' case", "say where the call goes when no case holds")
        return BranchNode(node_id, node.y.where, tuple(cases), otherwise)

    def enter(self, node: BranchNode, call: Step) -> None:
        values = variables(call, call.at)
        for case in node.cases:
            if all(holds(t, values) for t in case.tests):
                call.goto(case.go)
                return
        call.goto(node.otherwise)

    # --- checks, graph and schema -----------------------------------------------------------
    def field_uses(self, node: BranchNode, ctx: Context) -> Iterable[FieldUse]:
        """Each variable of each case, where it is written; one tested only with 'set' may be unset."""
        branch = body(ctx, node)
        items = [y for y in (branch.value if branch is not None and isinstance(branch.value, list) else [])
                 if isinstance(y.value, dict) and "else" not in y.value]
        for i, case in enumerate(node.cases):
            cond = find(items[i], "if") if i < len(items) else None
            for var in dict.fromkeys(t.var for t in case.tests):
                where = cond.key_where.get(var, cond.where) if cond is not None and isinstance(cond.value, dict) \
                    else node_where(ctx, node)
                yield FieldUse(var, where, "variable", BUILT_IN_VARS,
                               exempt=all(t.op == "set" for t in case.tests if t.var == var))

    def edge_label(self, node: BranchNode, label: str, target: str) -> str:
        if label.startswith("case "):
            case = node.cases[int(label.split()[1]) - 1]
            return " and ".join(_condition(t.var, t.op, t.value) for t in case.tests) or label
        return label

    def schema_defs(self) -> dict[str, Any]:
        return {
            "test": {"description": "A plain value means 'equals'; or a mapping of tests: " + ", ".join(TESTS) + ".",
                     "anyOf": [{"type": ["string", "number", "boolean"]},
                               {"type": "object", "minProperties": 1, "additionalProperties": False,
                                "properties": {op: {} for op in TESTS}}]},
            "branch": {"type": "array", "minItems": 1, "description": "Cases tried in order; the last is '- else: NODE'.",
                       "items": {"oneOf": [
                           obj("A case.", {"if": {"type": "object", "minProperties": 1, "additionalProperties": ref("test"),
                                                  "description": "Variable -> test: slots, lookup.FIELD, caller, verified, "
                                                                 "time, weekday, date."},
                                           "go": ref("nodeId", "Where the call goes when every test holds.")},
                               ("if", "go")),
                           obj("Where the call goes when no case holds.",
                               {"else": ref("nodeId", "Where the call goes when no case holds.")}, ("else",))]}},
        }


KIND = Branch()


def _condition(var: str, op: str, value: Any) -> str:
    if op == "set":
        return f"{var} {'set' if value else 'not set'}"
    words = {"equals": "=", "not": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤", "in": "in",
             "starts_with": "starts with", "matches": "matches", "before": "before", "after": "after"}
    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
    return f"{var} {words.get(op, op)} {shown}"


def _tests(var: str, test: Y, where: Where, ctx: Context) -> list[Test]:
    if not isinstance(test.value, dict):
        return [Test(var, "equals", test.plain())]
    out: list[Test] = []
    for op, value in test.value.items():
        if op not in TESTS:
            ctx.error(test.key_where[op], f"unknown test '{op}' on '{var}'",
                      did_you_mean(op, TESTS) or f"tests: {', '.join(TESTS)}")
            continue
        v = value.plain()
        if op in ("gt", "ge", "lt", "le") and (isinstance(v, bool) or not isinstance(v, (int, float))):
            ctx.error(value.where, f"'{op}' needs a number, not {kind_name(v)}")
        if op in ("before", "after") and not (isinstance(v, str) and re.fullmatch(r"\d{2}:\d{2}", v)):
            ctx.error(value.where, f"'{op}' needs a time like \"17:30\"")
        if op == "matches":
            try:
                re.compile(str(v))
            except re.error as exc:
                ctx.error(value.where, f"bad pattern: {exc}")
                continue
        if op == "in" and not isinstance(v, list):
            ctx.error(value.where, "'in' needs a list of values")
            continue
        out.append(Test(var, op, v))
    return out


def variables(call: Step, at: datetime) -> dict[str, Any]:
    zone = ZoneInfo(call.flow.hours.timezone) if call.flow.hours else ZoneInfo("UTC")
    local = at.astimezone(zone)
    values: dict[str, Any] = dict(call.session.slots)
    values.update({f"lookup.{k}": v for k, v in call.session.lookup.items()})
    values.update(caller=call.session.caller, verified=call.session.verified, time=local.strftime("%H:%M"),
                  weekday=WEEKDAYS[local.weekday()], date=local.date().isoformat())
    return values


def holds(test: Test, values: dict[str, Any]) -> bool:
    present = test.var in values and values[test.var] not in (None, "")
    if test.op == "set":
        return present == bool(test.value)
    if not present:
        return test.op == "not"
    have = values[test.var]
    try:
        if test.op == "equals":
            return _same(have, test.value)
        if test.op == "not":
            return not _same(have, test.value)
        if test.op == "in":
            return any(_same(have, v) for v in test.value)
        if test.op in ("gt", "ge", "lt", "le"):
            number = float(have)
            return bool({"gt": number > test.value, "ge": number >= test.value,
                         "lt": number < test.value, "le": number <= test.value}[test.op])
        if test.op == "starts_with":
            return str(have).startswith(str(test.value))
        if test.op == "matches":
            return re.search(str(test.value), str(have)) is not None
        if test.op == "before":
            return bool(str(have) < test.value)
        if test.op == "after":
            return bool(str(have) >= test.value)
    except (TypeError, ValueError):
        return False
    return False


def _same(have: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(have, bool):
        return str(have).lower() in ("true", "yes", "1") if want is True else str(have).lower() in ("false", "no", "0", "")
    return str(have).strip().lower() == str(want).strip().lower()

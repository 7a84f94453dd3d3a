"""YAML with positions: every value of a flow file knows its file, line and column.

PyYAML's composer gives nodes with marks; this module turns them into ``Y`` values (the
Python value plus where it stands), reporting duplicate keys and non-string keys as
problems instead of silently keeping the last one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ivr.model.problems import Problem, Where


@dataclass
class Y:
    """A YAML value with its position. ``value`` is a dict of str -> Y, a list of Y, or a
    scalar (str, int, float, bool, None, date)."""

    value: Any
    where: Where
    key_where: dict[str, Where] = field(default_factory=dict)  # for mappings: where each key stands
    raw: str | None = None  # for scalars: the text as written (YAML reads a bare yes/no as true/false)

    def plain(self) -> Any:
        """The value with positions stripped (recursively)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def _where(file: str, mark: Any) -> Where:
    return Where(file, mark.line + 1, mark.column + 1)


def parse_yaml(text: str, file: str, problems: list[Problem]) -> Y | None:
    """Parse ``text``; syntax errors and duplicate keys are appended to ``problems``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _where(file, mark) if mark else Where(file, 1, 1)
        problems.append(Problem(where, f"YAML syntax error: {exc.problem or exc.context}",
                                "check indentation, colons and quotes on this line or the one before"))
        return None
    except yaml.YAMLError as exc:  # e.g. a reader error on bad bytes
        problems.append(Problem(Where(file, 1, 1), f"YAML error: {exc}"))
        return None
    if root is None:
        problems.append(Problem(Where(file, 1, 1), "the file is empty", "a flow file starts with 'flow: NAME'"))
        return None
    constructor = yaml.SafeLoader("")
    return _convert(root, file, constructor, problems)


def _convert(node: yaml.Node, file: str, constructor: yaml.SafeLoader, problems: list[Problem]) -> Y:
    where = _where(file, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Y] = {}
        keys: dict[str, Where] = {}
        for key_node, value_node in node.value:
            key_where = _where(file, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(key_where, "a key must be a plain word"))
                continue
            key = str(constructor.construct_object(key_node))
            if key in out:
                problems.append(Problem(key_where, f"'{key}' is given twice",
                                        f"the first '{key}' is at line {keys[key].line}"))
                continue
            keys[key] = key_where
            out[key] = _convert(value_node, file, constructor, problems)
        return Y(out, where, keys)
    if isinstance(node, yaml.SequenceNode):
        return Y([_convert(item, file, constructor, problems) for item in node.value], where)
    try:
        value = constructor.construct_object(node)
    except yaml.YAMLError as exc:
        problems.append(Problem(where, f"bad value: {exc}"))
        value = None
    return Y(value, where, raw=node.value)

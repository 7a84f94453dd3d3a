"""YAML with positions: every value of a flow file knows its file, line and column.

PyYAML's composer gives nodes with marks; this module turns them into ``Y`` values (the
Python value plus where it stands), reporting duplicate keys and non-string keys as
problems instead of silently keeping the last one.

Reading is bounded by ``Limits``: the file's size, how often it uses YAML aliases
(``*name``), how many values those aliases repeat and how deep values nest. A file over a
limit is refused with one problem where it goes over, before anything is expanded, so a
"billion laughs" file costs milliseconds, not minutes and gigabytes.

libyaml's C composer is used when PyYAML has it (its wheels do), with the same line and
column for every value; ``pure=True`` reads with PyYAML's Python composer and leaves the
garbage collector alone, as flows were read before: the benchmark's baseline.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import yaml

from ivr.model.problems import Problem, Where

from .yamlerrors import explain

__all__ = ["Y", "Limits", "LIMITS", "WITH_LIBYAML", "parse_yaml", "gc_paused", "size_problem"]

# Rules of this file:
# - Both composers give the same position for every value. When libyaml rejects a file,
#   the Python composer reads it again, so a syntax error says (and points at) exactly what
#   it always did; if the Python composer accepts it after all, its reading is used.
# - ``_measure`` is the only walk of the composed nodes that meets an alias before the
#   limits are checked. It uses an explicit stack, steps over an alias instead of into it
#   and caps every size at the budget, so its cost follows the file, not the expansion.
# - An alias becomes the very ``Y`` of its anchor (not a copy): conversion costs what the
#   file holds, and the limits bound what a walk that follows aliases (``plain``) can meet.
# - The garbage collector is paused while a file is read: every container made then lives
#   on, so collecting only costs time, growing with the file. One count for all threads
#   restores it once, when the last read ends.

_STR_TAG = "tag:yaml.org,2002:str"
_DEEP_HINT = "a flow nests a few levels: look for a long run of [ or { brackets"
_PureLoader: Any = yaml.SafeLoader
_CLoader: Any = getattr(yaml, "CSafeLoader", None)
WITH_LIBYAML: bool = _CLoader is not None
"""Whether libyaml's C composer is there to be used."""


@dataclass(frozen=True)
class Limits:
    """How much one flow file may ask of the reader: far beyond real flows (the demo line is
    9 KB with 2 aliases; a 5,000-node flow is about 1 MiB), there to refuse a file built to
    hurt. A caller may set its own (``parse_yaml(..., limits=Limits(max_bytes=...))``)."""

    max_bytes: int = 4 * 1024 * 1024  # the file's size, in bytes of UTF-8
    max_aliases: int = 100  # uses of YAML aliases (*name)
    max_alias_values: int = 10_000  # values repeated through those aliases, all together
    max_depth: int = 64  # levels of nesting, aliases followed


LIMITS = Limits()


@dataclass(slots=True)
class Y:
    """A YAML value with its position. ``value`` is a dict of str -> Y, a list of Y, or a
    scalar (str, int, float, bool, None, date). An alias is the same ``Y`` as its anchor."""

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


def parse_yaml(text: str, file: str, problems: list[Problem], *, limits: Limits = LIMITS, pure: bool = False) -> Y | None:
    """Parse ``text``; syntax errors, duplicate keys and a file over ``limits`` are appended
    to ``problems``. ``pure=True`` reads with PyYAML's Python composer (the slow baseline)."""
    too_big = _size_problem(text, file, limits)
    if too_big is not None:
        problems.append(too_big)
        return None
    with gc_paused(not pure):
        try:
            root, loader = _compose(text, pure)
        except yaml.MarkedYAMLError as exc:
            problems.append(explain(exc, text, file))  # in plain words, at the line to fix
            return None
        except yaml.YAMLError as exc:  # e.g. a reader error on bad bytes
            problems.append(Problem(Where(file, 1, 1), f"YAML error: {exc}"))
            return None
        except RecursionError:  # the Python composer recurses once per level
            problems.append(Problem(Where(file, 1, 1),
                                    f"values are nested too deeply; flows allow at most {limits.max_depth} levels", _DEEP_HINT))
            return None
        if root is None:
            problems.append(Problem(Where(file, 1, 1), "the file is empty", "a flow file starts with 'flow: NAME'"))
            return None
        overrun = _measure(root, limits)
        if overrun is not None:
            problems.append(_overrun_problem(overrun, text, file, limits, loader))
            return None
        return _Converter(file, problems).convert(root)


def _where(file: str, mark: Any) -> Where:
    return Where(file, mark.line + 1, mark.column + 1)


def _compose(text: str, pure: bool) -> tuple[yaml.Node | None, Any]:
    """The composed nodes, and the loader that composed them."""
    if pure or _CLoader is None:
        return yaml.compose(text, Loader=_PureLoader), _PureLoader
    try:
        return yaml.compose(text, Loader=_CLoader), _CLoader
    except (yaml.YAMLError, UnicodeEncodeError):  # libyaml reads UTF-8: a lone surrogate cannot go there
        return yaml.compose(text, Loader=_PureLoader), _PureLoader  # its words and positions, as always


def _size_problem(text: str, file: str, limits: Limits) -> Problem | None:
    if len(text) <= limits.max_bytes // 4:  # UTF-8 takes at most 4 bytes a character
        return None
    return size_problem(len(text.encode("utf-8", "surrogatepass")), file, limits)


def size_problem(size: int, file: str, limits: Limits = LIMITS) -> Problem | None:
    """The problem of a file of ``size`` bytes, or None when it is within ``limits`` (a
    loader asks before it reads a file, so a huge one never lands in memory)."""
    if size <= limits.max_bytes:
        return None
    return Problem(Where(file, 1, 1), f"this file is {_amount(size)}; a flow file may be at most {_amount(limits.max_bytes)}",
                   "split it into smaller flows that hand calls to each other with 'goto: FLOW'")


def _amount(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB ({size:,} bytes)"
    return f"{size:,} bytes"


@contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """Pause the garbage collector for the block (``pause=False``: leave it alone), as
    ``parse_yaml`` does while it reads. A loader may hold it around a whole load: what is
    read and built from a flow lives on, so collecting meanwhile only costs time."""
    if not pause:
        yield
        return
    _GC.enter()
    try:
        yield
    finally:
        _GC.leave()


class _GcPause:
    """One pause of the garbage collector shared by every read in progress."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.readers = 0
        self.was_enabled = False

    def enter(self) -> None:
        with self.lock:
            if self.readers == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.readers += 1

    def leave(self) -> None:
        with self.lock:
            self.readers -= 1
            if self.readers == 0 and self.was_enabled:
                gc.enable()


_GC = _GcPause()


# --- limits on aliases and nesting -------------------------------------------------------

@dataclass(frozen=True)
class _Overrun:
    """The first limit a file goes over, in the order of its text."""

    limit: str  # "aliases" | "alias_values" | "depth" | "cycle"
    alias: int  # which alias use (1-based, in the order of the text) goes over; 0: none
    figure: int  # the count that goes over the limit
    node: yaml.Node  # where it goes over when no alias is to blame
    aliases: int  # alias uses in the whole file


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return chain.from_iterable(node.value)  # key, value, key, value...
    return iter(node.value if isinstance(node, yaml.SequenceNode) else ())


def _measure(root: yaml.Node, limits: Limits) -> _Overrun | None:
    """Walk the composed nodes once, in the order of the text, counting alias uses, the
    values they repeat and the depth with aliases followed; the first limit passed wins."""
    cap = max(limits.max_alias_values, limits.max_depth) + 1
    done: dict[int, tuple[int, int]] = {}  # a finished node -> (values, levels) of its expansion, capped
    open_nodes = {id(root)}
    aliases = repeated = 0
    first: tuple[str, int, int, yaml.Node] | None = ("depth", 0, 1, root) if limits.max_depth < 1 else None
    stack: list[_Frame] = [_Frame(root, _children(root), 1)]
    while stack:
        frame = stack[-1]
        for child in frame.rest:
            key = id(child)
            seen = done.get(key)
            if seen is None and key not in open_nodes:  # a value met for the first time
                if child.__class__ is yaml.ScalarNode:
                    done[key] = (1, 1)
                    frame.values += 1
                    frame.levels = max(frame.levels, 2)
                    continue
                if first is None and frame.depth + 1 > limits.max_depth:
                    first = ("depth", 0, frame.depth + 1, child)
                open_nodes.add(key)
                stack.append(_Frame(child, _children(child), frame.depth + 1))
                break
            aliases += 1  # an alias: step over it
            if seen is None:
                first = first or ("cycle", aliases, 0, child)
                continue
            frame.values = min(cap, frame.values + seen[0])
            frame.levels = max(frame.levels, min(cap, seen[1] + 1))
            if first is not None:
                continue
            repeated = min(cap, repeated + seen[0])
            if aliases > limits.max_aliases:
                first = ("aliases", aliases, aliases, child)
            elif repeated > limits.max_alias_values:
                first = ("alias_values", aliases, repeated, child)
            elif frame.depth + seen[1] > limits.max_depth:
                first = ("depth", aliases, frame.depth + seen[1], child)
        else:
            stack.pop()
            open_nodes.discard(id(frame.node))
            done[id(frame.node)] = (min(cap, frame.values), min(cap, frame.levels))
            if stack:
                parent = stack[-1]
                parent.values = min(cap, parent.values + frame.values)
                parent.levels = max(parent.levels, min(cap, frame.levels + 1))
    if first is None:
        return None
    return _Overrun(*first, aliases=aliases)


class _Frame:
    """A mapping or list being walked by ``_measure``: what is left of it and its tally."""

    __slots__ = ("depth", "levels", "node", "rest", "values")

    def __init__(self, node: yaml.Node, rest: Iterator[yaml.Node], depth: int):
        self.node = node
        self.rest = rest
        self.depth = depth  # its level in the file, aliases followed (the top value is 1)
        self.values = 1  # values in its expansion so far, itself included
        self.levels = 1  # levels of its expansion so far, itself included


def _overrun_problem(overrun: _Overrun, text: str, file: str, limits: Limits, loader: Any) -> Problem:
    if overrun.alias == 0:
        return Problem(_where(file, overrun.node.start_mark),
                       f"values are nested {overrun.figure} levels deep here; flows allow at most {limits.max_depth}",
                       _DEEP_HINT)
    name, mark = _alias_at(text, overrun.alias, loader)
    where = _where(file, mark)
    if overrun.limit == "cycle":
        return Problem(where, f"the alias *{name} is used inside the value it names (&{name}), so it would repeat forever",
                       f"an alias can only repeat a value that ends before it; write this part out instead of *{name}")
    if overrun.limit == "aliases":
        return Problem(where, f"this file uses YAML aliases (*name) {overrun.aliases:,} times; "
                              f"flows allow at most {limits.max_aliases:,}",
                       "write the repeated values out, or split the flow; this is the first alias over the limit")
    if overrun.limit == "alias_values":
        return Problem(where, f"this alias (*{name}) takes the values repeated by YAML aliases past {limits.max_alias_values:,}; "
                              f"flows allow at most {limits.max_alias_values:,}",
                       "aliases of values that hold aliases multiply; write the repeated part out, or use one level of aliases")
    return Problem(where, f"with this alias (*{name}), values are nested {overrun.figure} levels deep; "
                          f"flows allow at most {limits.max_depth}",
                   "an alias repeats the whole value it names, with all its levels")


def _alias_at(text: str, number: int, loader: Any) -> tuple[str, Any]:
    """The name and mark of the ``number``-th alias of the text (the composed nodes keep no
    trace of where an alias stood), read by the loader that composed it. Only a refused
    file is read this second time."""
    seen = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            seen += 1
            if seen == number:
                return str(event.anchor), event.start_mark
    raise AssertionError(f"the composer met alias {number}, the parser only {seen}")


# --- nodes -> Y ----------------------------------------------------------------------------

class _Converter:
    """Composed nodes -> ``Y`` values, each node converted once (an alias shares its ``Y``)."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        self.constructor = yaml.SafeLoader("")
        self.done: dict[int, Y] = {}  # id of a node -> its Y; the nodes outlive this object

    def convert(self, node: yaml.Node) -> Y:
        known = self.done.get(id(node))
        if known is not None:
            return known
        where = _where(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Y] = {}
            keys: dict[str, Where] = {}
            for key_node, value_node in node.value:
                key_where = _where(self.file, key_node.start_mark)
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(Problem(key_where, "a key must be a plain word"))
                    continue
                ok, key_value = self.scalar(key_node, key_where)
                if not ok:
                    continue
                key = str(key_value)
                if key in out:
                    self.problems.append(Problem(key_where, f"'{key}' is given twice",
                                                 f"the first '{key}' is at line {keys[key].line}"))
                    continue
                keys[key] = key_where
                out[key] = self.convert(value_node)
            y = Y(out, where, keys)
        elif isinstance(node, yaml.SequenceNode):
            y = Y([self.convert(item) for item in node.value], where)
        else:
            y = Y(self.scalar(node, where)[1], where, raw=node.value)
        self.done[id(node)] = y
        return y

    def scalar(self, node: yaml.Node, where: Where) -> tuple[bool, Any]:
        """(True, value), or (False, None) with a problem when the value cannot be read."""
        if node.tag == _STR_TAG:
            return True, node.value  # what SafeConstructor gives for text, without its bookkeeping
        try:
            return True, self.constructor.construct_object(node)
        except yaml.MarkedYAMLError as exc:  # e.g. '!custom 1': the problem already says where
            self.problems.append(Problem(where, f"bad value: {exc.problem}"))
        except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. '!!int x'
            self.problems.append(Problem(where, f"bad value: {exc}"))
        return False, None

"""YAML syntax errors told in plain words, at the line that needs the fix.

PyYAML says what its parser expected ("expected <block end>, but found '<block mapping
start>'") and where it noticed, which is often the line after the mistake. ``explain``
turns such an error into a ``Problem`` for a flow author: what is wrong in their terms
(a tab, a key indented like no other, a quote that ends the text early, a missing colon)
and where to fix it.

Rules of this file: each rule looks at the error and the text and either explains it or
passes; the first rule that explains wins, and an error no rule knows keeps PyYAML's
words with a general hint. A rule never raises: a position it cannot find means it passes.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from ivr.model.problems import Problem, Where

__all__ = ["explain"]

GENERAL_HINT = "check indentation, colons and quotes on this line or the one before"
_KEY = re.compile(r"^(\s*)(?:-\s+)?((?:\"[^\"]*\"|'[^']*'|[^\s:#\"'{\[][^:#]*?))\s*:(?:\s+|$)")


@dataclass(frozen=True)
class _Error:
    """What PyYAML said, 0-based, with the file's lines."""

    lines: list[str]
    problem: str
    context: str
    line: int  # where PyYAML noticed
    col: int
    context_line: int  # where the construct it was reading began (-1: unknown)
    context_col: int

    def text(self, n: int) -> str:
        return self.lines[n] if 0 <= n < len(self.lines) else ""


_Found = tuple[int, int, str, str]  # line, col (0-based), message, hint
_Rule = Callable[[_Error], "_Found | None"]


def explain(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    """The problem a flow author should read for a YAML syntax error in ``text``."""
    mark = exc.problem_mark or exc.context_mark
    context = exc.context_mark
    error = _Error(text.splitlines(), exc.problem or "", exc.context or "",
                   mark.line if mark else 0, mark.column if mark else 0,
                   context.line if context else -1, context.column if context else -1)
    for rule in _RULES:
        try:
            found = rule(error)
        except Exception:  # a rule that cannot place the mistake passes; PyYAML's words remain
            found = None
        if found is not None:
            line, col, message, hint = found
            return Problem(Where(file, line + 1, col + 1), message, hint)
    return Problem(Where(file, error.line + 1, error.col + 1), f"YAML cannot read this: {error.problem or error.context}",
                   GENERAL_HINT)


# --- helpers -----------------------------------------------------------------------------

def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _col(line: str) -> int:
    """Where the line's key stands (after '- ' in a list item), else its indentation."""
    found = _KEY.match(line)
    return found.start(2) if found else _indent(line)


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _before(error: _Error, n: int) -> int:
    """The nearest line above ``n`` with content (not blank, not only a comment); -1 if none."""
    n -= 1
    while n >= 0 and not _content(error.text(n)):
        n -= 1
    return n


def _key(line: str) -> str:
    found = _KEY.match(line)
    return found.group(2).strip("\"'") if found else ""


def _value(line: str) -> str:
    """What follows the key's colon, comments kept (empty for a key that opens a block)."""
    found = _KEY.match(line)
    return line[found.end():].strip() if found else ""


def _opens_block(line: str) -> bool:
    return bool(_key(line)) and (not _value(line) or _value(line).startswith(("#", "&", "!", "|", ">")))


def _name(line: str) -> str:
    key = _key(line)
    if key:
        return f"'{key}'"
    return "the list item" if line.lstrip().startswith("-") else "this line"


def _usual_step(error: _Error) -> int:
    """How far this file usually indents a block under its key (2 when it cannot tell)."""
    steps: Counter[int] = Counter()
    for n, line in enumerate(error.lines):
        if _content(line) and _opens_block(line):
            nxt = n + 1
            while nxt < len(error.lines) and not _content(error.lines[nxt]):
                nxt += 1
            if nxt < len(error.lines) and _indent(error.lines[nxt]) > _indent(line):
                steps[_indent(error.lines[nxt]) - _indent(line)] += 1
    return steps.most_common(1)[0][0] if steps else 2


def _spaces(n: int) -> str:
    return f"{n} space{'' if n == 1 else 's'}"


# --- the rules ----------------------------------------------------------------------------

def _tab(error: _Error) -> _Found | None:
    line = error.text(error.line)
    if "'\\t'" in error.problem:
        col = error.col if line[error.col:error.col + 1] == "\t" else line.find("\t")
    elif "\t" in line[:len(line) - len(line.lstrip())]:
        col = line.find("\t")  # a tab in the indentation confused the parser into other words
    else:
        return None
    if col < 0:
        return None
    return (error.line, col, "a tab character: YAML does not allow tabs for indenting or between a key and its value",
            "use spaces instead (most editors can insert spaces when Tab is pressed)")


def _unclosed_quote(error: _Error) -> _Found | None:
    if not error.context.startswith("while scanning a quoted scalar") or error.context_line < 0:
        return None
    quote = error.text(error.context_line)[error.context_col]
    inner = "\\\"" if quote == '"' else "''"
    return (error.context_line, error.context_col, f"this text opens with {quote} but never closes it",
            f"end the text with {quote} on the same line; inside it, write {inner} for a {quote}")


def _escape(error: _Error) -> _Found | None:
    found = re.match(r"found unknown escape character '?(.)'?", error.problem)
    if not found:
        return None
    return (error.line, max(error.col - 1, 0), f"inside double quotes, \\{found.group(1)} is not something YAML knows",
            "write \\\\ for a backslash, or put the text in single quotes, where a backslash is just a backslash")


def _after_closing(error: _Error) -> _Found | None:
    """Text goes on after a closing quote or bracket on the same line."""
    if not error.problem.startswith(("expected <block end>, but found '<scalar>'", "expected <block end>, but found '{'",
                                     "expected <block end>, but found '['")) \
            or not error.text(error.line)[:error.col].strip():
        return None
    line = error.text(error.line)
    before = line[:error.col].rstrip()
    if not before:
        return None
    close = len(before) - 1
    key = _key(line)
    owner = f"the value of '{key}'" if key else "this value"
    if before[-1] in "\"'":
        quote = before[-1]
        if before.count(quote) % 2 == 1:  # the quote that ends here opened on a line above
            opened = next((m for m in range(error.line - 1, -1, -1) if error.text(m).count(quote) % 2 == 1), -1)
            if opened >= 0:
                return (opened, error.text(opened).rfind(quote), f"this text opens with {quote} and runs on "
                        f"to line {error.line + 1}, where the next {quote} ends it",
                        f"end the text with {quote} on the same line")
        return (error.line, close, f"{owner} is in quotes that end here, but the line goes on after them",
                _requote(line, quote))
    if before[-1] in "}]":
        opener = "{" if before[-1] == "}" else "["
        start = line.find(opener)
        what = "a mapping" if opener == "{" else "a list"
        return (error.line, max(start, 0), f"{owner} starts with {opener}, so YAML reads it as {what}, "
                "but text follows it", f'put the whole text in quotes, e.g. "{_value(line)}"')
    return None


def _requote(line: str, quote: str) -> str:
    """How to write the line's text with its inner quotes kept."""
    value, key = _value(line), _key(line)
    inner = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == quote else value.strip(quote)
    if quote == '"':
        fixed = f"'{inner}'" if "'" not in inner else '"' + inner.replace('"', '\\"') + '"'
        why = "a \" inside double quotes ends them; put the text in single quotes or write \\\" inside"
    else:
        fixed = f'"{inner}"' if '"' not in inner else "'" + inner.replace("'", "''") + "'"
        why = "an apostrophe inside single quotes ends them; put the text in double quotes or write '' inside"
    return f"{why}: {key}: {fixed}" if key else f"{why}: {fixed}"


def _missing_colon(error: _Error) -> _Found | None:
    """``say "hi"`` or ``go desk``: a key without its colon, found on the next line."""
    if error.problem == "could not find expected ':'" and error.context_line >= 0:
        culprit = error.context_line
    elif error.problem == "mapping values are not allowed here" and ": " not in error.text(error.line)[:error.col]:
        culprit = _before(error, error.line)
        if culprit < 0 or ":" in error.text(culprit) or _indent(error.text(culprit)) != _indent(error.text(error.line)):
            return None
    else:
        return None
    line = error.text(culprit)
    if not line.strip() or ":" in line:
        return None
    col = _indent(line) + (2 if line.strip().startswith("- ") else 0)
    words = line[col:].split(None, 1)
    end = col + len(words[0])
    fixed = f"{words[0]}: {words[1]}" if len(words) > 1 else f"{words[0]}:"
    return (culprit, end, f"'{line.strip()}' has no colon: a key and its value are written 'key: value'",
            f"write it as '{fixed}'")


def _colon_in_text(error: _Error) -> _Found | None:
    """``say: Press 1: for orders``: ': ' inside text that is not in quotes."""
    if error.problem != "mapping values are not allowed here":
        return None
    line = error.text(error.line)
    found = _KEY.match(line)
    key = _key(line)
    if not key or found is None or found.end() > error.col:
        return None
    value = _value(line).replace('"', '\\"')
    return (error.line, error.col, f"a colon and a space inside the text of '{key}', which is not in quotes: "
            "YAML reads it as a second key", f"put the whole text in quotes: {key}: \"{value}\"")


def _unclosed_bracket(error: _Error) -> _Found | None:
    found = re.match(r"while parsing a flow (sequence|mapping)", error.context)
    if not found or error.context_line < 0:
        return None
    opener, closer = ("[", "]") if found.group(1) == "sequence" else ("{", "}")
    if error.line > error.context_line:
        return (error.context_line, error.context_col, f"this {opener} is never closed with {closer}",
                f"end it with {closer} on the same line, e.g. {opener}a, b{closer}")
    return (error.line, error.col, f"inside {opener} {closer}, items are separated by commas",
            f"put an item that holds ': ' or a comma in quotes, e.g. {opener}\"Press 1: orders\"{closer}")


def _indentation(error: _Error) -> _Found | None:
    """A line whose indentation fits no mapping around it, pointed at the line to move."""
    if not (error.problem.startswith("expected <block end>") or error.problem == "mapping values are not allowed here"):
        return None
    n = error.line
    line = error.text(n)
    if error.col != _indent(line) and error.problem.startswith("expected <block end>"):
        return None
    above = _before(error, n)
    if above < 0:
        return None
    here, there = _indent(line), _col(error.text(above))
    me, it = _name(line), _name(error.text(above))
    if line.lstrip().startswith("- ") and error.text(above).lstrip().startswith("- ") \
            and here > _indent(error.text(above)):
        return (n, here, f"this list item is indented {_spaces(here)}, the one above it "
                f"{_spaces(_indent(error.text(above)))}", "the items of one list must line up")
    if here > there:
        parent = _before(error, above)
        parent_line = error.text(parent)
        if parent >= 0 and _opens_block(parent_line) and _indent(parent_line) == there \
                and not error.text(above).lstrip().startswith("-"):
            return (above, there, f"{it} is not indented under {_name(parent_line)} on the line above it, "
                    f"so {_name(parent_line)} is left empty and {me} below does not fit",
                    f"indent {it} and the lines that belong with it deeper than {_name(parent_line)}")
        step = _usual_step(error)
        if parent >= 0 and _opens_block(parent_line) and _indent(parent_line) < there \
                and there - _indent(parent_line) != step and here - _indent(parent_line) == step:
            return (above, there, f"{it} is indented {_spaces(there)}, but {me} after it {_spaces(here)}: "
                    "the keys of one mapping must line up", f"indent {it} by {_spaces(here)}, like the lines after it")
        return (n, here, f"{me} is indented deeper than {it} above it, which already has its value",
                f"line {me} up with {it} ({_spaces(there)})")
    if here < there:
        first = error.text(error.context_line)
        parent = _before(error, error.context_line)
        if error.context_line >= 0 and parent >= 0 and _opens_block(error.text(parent)):
            base, step = _col(error.text(parent)), _usual_step(error)
            if _col(first) - base != step and here - base == step:  # the block's first key is the odd one
                return (error.context_line, _col(first), f"{_name(first)} is indented {_spaces(_col(first))}, "
                        f"but {me} on line {n + 1} {_spaces(here)}: the keys of one mapping must line up",
                        f"indent {_name(first)} by {_spaces(here)}, like {me}")
        fits = _indents_above(error, n)
        options = " or ".join(f"{_spaces(i)} (like {name} on line {at + 1})" for i, name, at in fits[:2])
        return (n, here, f"{me} is indented {_spaces(here)}, like none of the keys above it",
                f"line it up with the keys it belongs with: {options}" if options else GENERAL_HINT)
    if line.lstrip().startswith("- "):
        return (n, here, f"a list item ('- ') among the keys of {_name(error.text(_owner(error, n)))}",
                "remove the '- ', or put the list under a key of its own ending in ':'")
    return None


def _indents_above(error: _Error, n: int) -> list[tuple[int, str, int]]:
    """(indent, key, line) of the mappings open above line ``n``, nearest first."""
    out: list[tuple[int, str, int]] = []
    limit = _col(error.text(_before(error, n))) + 1
    for m in range(n - 1, -1, -1):
        line = error.text(m)
        if _content(line) and _col(line) < limit and _key(line):
            out.append((_col(line), _name(line), m))
            limit = _col(line)
    return out


def _owner(error: _Error, n: int) -> int:
    for m in range(n - 1, -1, -1):
        if _content(error.text(m)) and _indent(error.text(m)) < _indent(error.text(n)):
            return m
    return n


def _after_block_sign(error: _Error) -> _Found | None:
    """``text: >- words``: after | or > only a comment may follow on that line."""
    if not error.problem.startswith("expected a comment or a line break"):
        return None
    return (error.line, error.col, "after | or > nothing may follow on the same line: the text starts on the next line",
            "move the text to the lines below, indented deeper than the key")


def _bad_start(error: _Error) -> _Found | None:
    found = re.match(r"found character '(.)' that cannot start any token", error.problem)
    if not found:
        return None
    char = found.group(1)
    return (error.line, error.col, f"a value cannot start with {char} unless it is in quotes",
            f'put the whole text in quotes, e.g. "{_value(error.text(error.line)) or char}"')


def _undefined_alias(error: _Error) -> _Found | None:
    found = re.match(r"found undefined alias '?([^']*)'?", error.problem)
    if not found:
        return None
    name = found.group(1)
    return (error.line, error.col, f"*{name} repeats the value named &{name}, but no value above has that name",
            f"name the value with &{name} where it is first written, or put text that starts with * in quotes")


_RULES: tuple[_Rule, ...] = (_tab, _unclosed_quote, _escape, _after_closing, _missing_colon, _colon_in_text,
                             _unclosed_bracket, _indentation, _after_block_sign, _bad_start, _undefined_alias)

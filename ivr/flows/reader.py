"""Typed reading of one YAML mapping, collecting problems instead of stopping.

Rules of this file: a reader never raises for a flow author's mistake. Each accessor
returns a usable default when the value is missing or wrong and appends a ``Problem``
that points at the value (or at the mapping, for a missing key). ``done()`` reports keys
nobody asked for, with a "did you mean" hint, so an unknown key is never silently ignored.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, overload

from ivr.model.flow import Prompt, Ref, template_fields
from ivr.model.problems import Problem, Where, did_you_mean
from ivr.model.targets import AgentsOnFile

from .yamlpos import Y

_AUDIO_RE = re.compile(r"^\s*(audio/\S+\.(?:wav|mp3|ulaw|aiff|gsm))\s*(?:\|\s*(.*))?$", re.S)
_KIND_NAMES = {dict: "a mapping", list: "a list", str: "text", int: "a whole number",
               float: "a number", bool: "true or false", type(None): "nothing"}


def kind_name(value: Any) -> str:
    return _KIND_NAMES.get(type(value), type(value).__name__)


class Context:
    """What a whole flow file's parse shares: problems, references, the audio folder."""

    def __init__(self, file: str, audio_dir: Path | None, languages: Iterable[str] = ()):
        self.file = file
        self.audio_dir = audio_dir
        self.problems: list[Problem] = []
        self.refs: list[Ref] = []
        self.languages = tuple(languages)
        self.env: dict[str, str] = {}  # the flow's 'env:' defaults for ${NAME} in URLs
        self.root: Y | None = None  # the whole file with positions, for checks that point at a value
        self.lines: list[str] = []  # the file's lines, for columns inside a text value
        # Errors of a reference whose target cannot be guessed (missing, not a name, no
        # node close to it): a node that nothing leads to may be the one it meant, so the
        # checks name such nodes in these errors instead of reporting them on their own.
        self.dangling: list[Problem] = []
        self.agents: AgentsOnFile | None = None  # the agents file agent pools are checked against (ivr validate --agents)

    def error(self, where: Where, message: str, hint: str = "") -> Problem:
        problem = Problem(where, message, hint)
        self.problems.append(problem)
        return problem

    def replace(self, old: Problem, new: Problem) -> None:
        """Put ``new`` in the place of ``old`` (one error that says both, not two)."""
        self.problems = [new if p is old else p for p in self.problems]
        self.dangling = [new if p is old else p for p in self.dangling]

    def warn(self, where: Where, message: str, hint: str = "") -> None:
        self.problems.append(Problem(where, message, hint, "warning"))


class Reader:
    """Reads the keys of one mapping ``y`` on behalf of ``owner`` (e.g. "node 'main'")."""

    def __init__(self, y: Y, ctx: Context, owner: str):
        self.y = y
        self.ctx = ctx
        self.owner = owner
        self.seen: set[str] = set()
        self.lacking: dict[str, Problem] = {}  # required keys found missing, and their errors
        self.ok = isinstance(y.value, dict)
        if not self.ok:
            ctx.error(y.where, f"{owner} must be a mapping of keys, not {kind_name(y.value)}")

    # --- raw access -----------------------------------------------------------------
    def has(self, key: str) -> bool:
        return self.ok and key in self.y.value

    def get(self, key: str) -> Y | None:
        self.seen.add(key)
        return self.y.value.get(key) if self.ok else None

    def where(self, key: str) -> Where:
        return self.y.key_where.get(key, self.y.where) if self.ok else self.y.where

    def at(self, key: str) -> Where:
        """Where the value of ``key`` stands (the mapping itself when the key is missing)."""
        y = self.y.value.get(key) if self.ok else None
        return y.where if y is not None else self.y.where

    def missing(self, key: str, hint: str = "") -> Problem:
        problem = self.ctx.error(self.y.where, f"{self.owner} needs '{key}'", hint)
        self.lacking[key] = problem
        return problem

    # --- typed access ---------------------------------------------------------------
    @overload
    def text(self, key: str, default: str, required: bool = False) -> str: ...
    @overload
    def text(self, key: str, default: None = None, required: bool = False) -> str | None: ...

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        y = self.get(key)
        if y is None:
            if required:
                self.missing(key)
            return default
        if isinstance(y.value, bool) or y.value is None or isinstance(y.value, (dict, list)):
            self.ctx.error(y.where, f"'{key}' of {self.owner} must be text, not {kind_name(y.value)}")
            return default
        return str(y.value)

    @overload
    def number(self, key: str, default: float, lo: float | None = None,
               hi: float | None = None, whole: bool = False) -> float: ...
    @overload
    def number(self, key: str, default: None, lo: float | None = None,
               hi: float | None = None, whole: bool = False) -> float | None: ...

    def number(self, key: str, default: float | None, lo: float | None = None,
               hi: float | None = None, whole: bool = False) -> float | None:
        y = self.get(key)
        if y is None:
            return default
        value = y.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
            wanted = "a whole number" if whole else "a number"
            self.ctx.error(y.where, f"'{key}' of {self.owner} must be {wanted}, not {kind_name(value)}")
            return default
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            span = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            self.ctx.error(y.where, f"'{key}' of {self.owner} must be {span}, not {value}")
            return default
        return value

    @overload
    def integer(self, key: str, default: int, lo: int | None = None, hi: int | None = None) -> int: ...
    @overload
    def integer(self, key: str, default: None, lo: int | None = None, hi: int | None = None) -> int | None: ...

    def integer(self, key: str, default: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
        value = self.number(key, default, lo, hi, whole=True)
        return None if value is None else int(value)

    def flag(self, key: str, default: bool) -> bool:
        y = self.get(key)
        if y is None:
            return default
        if not isinstance(y.value, bool):
            self.ctx.error(y.where, f"'{key}' of {self.owner} must be true or false, not {kind_name(y.value)}")
            return default
        return y.value

    def words(self, key: str, required: bool = False) -> tuple[str, ...]:
        """A list of text items (a single text is accepted as a one-item list)."""
        y = self.get(key)
        if y is None:
            if required:
                self.missing(key)
            return ()
        items = y.value if isinstance(y.value, list) else [y]
        out = []
        for item in items:
            if isinstance(item.value, bool) and item.raw:
                out.append(item.raw)  # a phrase such as yes / no / on, read by YAML as true or false
            elif isinstance(item.value, (dict, list)) or item.value is None or isinstance(item.value, bool):
                self.ctx.error(item.where, f"'{key}' of {self.owner} must list text items, not {kind_name(item.value)}")
            else:
                out.append(str(item.value))
        return tuple(out)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key)
        if value is None:
            return default
        if value not in choices:
            self.ctx.error(self.at(key), f"'{key}' of {self.owner} must be one of {', '.join(choices)}, not '{value}'",
                           did_you_mean(value, choices))
            return default
        return value

    def ref(self, key: str, source: str, required: bool = True, label: str | None = None) -> str:
        """A node id; it is checked against the flow's nodes once all are read."""
        y = self.get(key)
        if y is None:
            if required:
                self.ctx.dangling.append(self.missing(key, "name the node the call goes to next"))
            return ""
        return self.ref_value(y, source, label or key)

    def ref_value(self, y: Y, source: str, label: str) -> str:
        if not isinstance(y.value, str) or not y.value:
            self.ctx.dangling.append(
                self.ctx.error(y.where, f"'{label}' of {self.owner} must name a node, not {kind_name(y.value)}"))
            return ""
        self.ctx.refs.append(Ref(source, label, y.value, y.where))
        return y.value

    def prompt(self, key: str, required: bool = False) -> Prompt:
        y = self.get(key)
        if y is None:
            if required:
                self.missing(key, "what should the caller hear here?")
            return Prompt()
        return read_prompt(y, self.ctx, f"'{key}' of {self.owner}")

    def sub(self, key: str, owner: str | None = None) -> Reader | None:
        y = self.get(key)
        return None if y is None else Reader(y, self.ctx, owner or f"'{key}' of {self.owner}")

    def done(self) -> None:
        """Report every key that was never read. A misspelt required key is one error
        (the unknown key, naming the one needed), not two."""
        if not self.ok:
            return
        for key in self.y.value:
            if key in self.seen:
                continue
            close = difflib.get_close_matches(str(key), list(self.lacking), n=1, cutoff=0.6)
            if close:
                self.ctx.replace(self.lacking.pop(close[0]), Problem(
                    self.y.key_where[key], f"unknown key '{key}' in {self.owner}, which needs '{close[0]}'",
                    f"did you mean '{close[0]}'?"))
                continue
            self.ctx.error(self.y.key_where[key], f"unknown key '{key}' in {self.owner}",
                           did_you_mean(key, self.seen) or f"known keys: {', '.join(sorted(self.seen))}")


def read_prompt(y: Y, ctx: Context, owner: str) -> Prompt:
    """A prompt is text, ``audio/file.wav | text``, ``{audio:, text:}``, or a mapping of
    language codes to prompts."""
    value = y.value
    if isinstance(value, str):
        match = _AUDIO_RE.match(value)
        if match:
            audio, text = match.group(1), (match.group(2) or "").strip()
            if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
                text = text[1:-1]
            return _checked(Prompt(text=text, audio=_audio(audio, y.where, ctx), where=y.where), ctx)
        return _checked(Prompt(text=value, where=y.where), ctx)
    if isinstance(value, dict):
        keys = set(value)
        if keys and keys <= {"audio", "text"}:
            r = Reader(y, ctx, owner)
            audio = r.text("audio")
            text = r.text("text", "")
            r.done()
            return _checked(Prompt(text=text or "", audio=_audio(audio, r.where("audio"), ctx) if audio else None,
                                   where=y.where), ctx)
        variants = {}
        for lang, sub in value.items():
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
                ctx.error(y.key_where[lang], f"'{lang}' in {owner} is neither 'audio', 'text' nor a language code like 'en-US'")
                continue
            variants[lang] = read_prompt(sub, ctx, f"{owner} ({lang})")
        first = next(iter(variants.values()), Prompt())
        return Prompt(text=first.text, audio=first.audio, where=y.where, variants=variants)
    ctx.error(y.where, f"{owner} must be text or a mapping with 'audio' and 'text', not {kind_name(value)}")
    return Prompt()


def _audio(path: str, where: Where, ctx: Context) -> str | None:
    relative = path[len("audio/"):] if path.startswith("audio/") else path
    if ctx.audio_dir is not None and not (ctx.audio_dir / relative).is_file():
        ctx.error(where, f"audio file '{path}' does not exist",
                  did_you_mean(relative, [p.name for p in ctx.audio_dir.glob("*") if p.is_file()])
                  or f"put the file under {ctx.audio_dir}/ or give a text prompt")
    return relative


def _checked(prompt: Prompt, ctx: Context) -> Prompt:
    try:
        template_fields(prompt.text)
    except ValueError as exc:
        ctx.error(prompt.where, f"bad template in prompt: {exc}",
                  "write fields as {slot_name}; double braces {{ }} for a literal brace")
        return Prompt(text=prompt.text.replace("{", "{{").replace("}", "}}"), audio=prompt.audio, where=prompt.where)
    if not prompt.text and not prompt.audio:
        ctx.error(prompt.where, "the prompt is empty", "give the words the caller should hear")
    return prompt

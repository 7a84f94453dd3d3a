"""The line's own words for a flow: the product's catalogues with the ops' files over them.

Ops keep ``messages/<language>.yaml`` beside their flows (``call_flows/messages/ko.yaml``):
a mapping of message keys (``ivr/model/catalogue/en.yaml`` lists them all) to text with
the same ``{fields}``. A file for a language the product ships changes only the messages
it names; a file for a new language must give every message. When a flow loads, each
language it speaks (its ``language:`` and every language of a prompt's variants) gets
one complete ``Messages``; ``ivr validate`` reports, as ``file:line:col``:

* a language of the flow with no catalogue at all (at the ``language:``, the prompt
  variant or the transfer's ``whisper_language:``);
* a catalogue that lacks keys the English one has, names a key that is not a message,
  or uses a ``{field}`` the message does not have (in the catalogue file).

Rules of this file: a folder's catalogues are read once and kept while none of its files
changes (size and modification time), so loading many flows reads them once; problems of
a catalogue file are the same ``Problem`` values each time (the loader reports them once).
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.model.flow import Flow
from ivr.model.messages import KEYS, Messages, allowed_fields, built_in, english, fields_of, language_key
from ivr.model.problems import Problem, Where, did_you_mean
from ivr.model.targets import AgentPool

from .positions import at
from .reader import Context, kind_name
from .yamlpos import LIMITS, Limits, parse_yaml

__all__ = ["Catalogues", "catalogues_in", "messages_for", "MESSAGES_FOLDER"]

MESSAGES_FOLDER = "messages"  # beside the flow files


@dataclass(frozen=True)
class Catalogues:
    """The ops' catalogue files of one flows folder, read and checked."""

    by_language: dict[str, Messages] = field(default_factory=dict)  # ops files merged over the product's
    problems: dict[str, tuple[Problem, ...]] = field(default_factory=dict)  # language -> its file's problems
    sources: dict[str, list[str]] = field(default_factory=dict)  # file -> its lines, for messages

    def get(self, language: str) -> Messages | None:
        key = language_key(language)
        return self.by_language.get(key) or built_in(key)


_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], Catalogues]] = {}
_lock = threading.Lock()


def catalogues_in(flows_folder: Path, limits: Limits = LIMITS) -> Catalogues:
    """The catalogues of ``flows_folder/messages`` (none there: the product's alone)."""
    folder = flows_folder / MESSAGES_FOLDER
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:  # no such folder: only the product's catalogues
        return Catalogues()
    with _lock:
        known = _cache.get(folder)
        if known is not None and known[0] == stamp:
            return known[1]
    read = _read_folder(files, limits)
    with _lock:
        _cache[folder] = (stamp, read)
    return read


def _read_folder(files: Iterable[Path], limits: Limits) -> Catalogues:
    out = Catalogues()
    for path in files:
        problems: list[Problem] = []
        language = language_key(path.stem)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.problems[language] = (Problem(Where(str(path), 1, 1), f"cannot read the messages file: {exc}",
                                              "save it as UTF-8 text"),)
            continue
        out.sources[str(path)] = text.splitlines()
        twin = next((m.files[-1] for key, m in out.by_language.items() if key == language), None)
        if twin is not None:
            problems.append(Problem(Where(str(path), 1, 1), f"{twin} already gives the '{language}' messages",
                                    "keep one file per language (e.g. ko.yaml, not ko.yaml and ko-KR.yaml)"))
        messages = _read_file(text, str(path), language, problems, limits)
        if messages is not None:
            out.by_language[language] = messages
        if problems:
            out.problems[language] = tuple(problems)
    return out


def _read_file(text: str, file: str, language: str, problems: list[Problem], limits: Limits) -> Messages | None:
    y = parse_yaml(text, file, problems, limits=limits)
    if y is None:
        return None
    if not isinstance(y.value, dict):
        problems.append(Problem(y.where, f"a messages file maps message keys to text, not {kind_name(y.value)}",
                                'e.g. still_trying: "Still trying to reach someone."'))
        return None
    reference = english()
    texts: dict[str, str] = {}
    for key, value in y.value.items():
        where = y.key_where.get(key, value.where)
        if key not in reference.texts:
            problems.append(Problem(where, f"'{key}' is not a message of the line",
                                    did_you_mean(key, KEYS) or "the keys are listed in docs/GUIDE.md (Languages)"))
            continue
        if not isinstance(value.value, str):
            problems.append(Problem(value.where, f"message '{key}' must be text, not {kind_name(value.value)}",
                                    "quote it: key: \"...\""))
            continue
        try:
            named = fields_of(value.value)
        except ValueError as exc:
            problems.append(Problem(value.where, f"message '{key}' has a broken {{field}}: {exc}",
                                    "write a field as {name}; a brace itself cannot be said"))
            continue
        allowed = allowed_fields(key)
        for name in named:
            if name not in allowed:
                hint = did_you_mean(name, allowed) or (f"its fields: {', '.join('{' + a + '}' for a in allowed)}"
                                                       if allowed else "this message has no fields")
                problems.append(Problem(value.where, f"message '{key}' names {{{name}}}, which it does not have", hint))
        texts[key] = value.value
    shipped = built_in(language)
    messages = shipped.merged(texts, file) if shipped is not None else Messages(language, texts, (file,),
                                                                                reference.texts)
    missing = [k for k in KEYS if not messages.has(k)]
    if missing:
        shown = ", ".join(f"'{k}'" for k in missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        last = len(text.splitlines()) or 1
        problems.append(Problem(Where(file, last, 1), f"the '{language}' messages lack {shown}",
                                "every message of the English catalogue (ivr/model/catalogue/en.yaml) needs its "
                                "words in this language"))
    return messages


def languages_of(flow: Flow, ctx: Context) -> dict[str, Where]:
    """Every language the flow speaks, with where it is said: ``language:`` and the
    language codes of prompt variants."""
    found: dict[str, Where] = {}
    root = ctx.root
    where = Where(flow.path, 1, 1)
    if root is not None and isinstance(root.value, dict) and "language" in root.value:
        where = root.value["language"].where
    found[language_key(flow.language)] = where
    for node in flow.nodes.values():
        for prompt in node.prompts():
            for code, variant in prompt.variants.items():
                found.setdefault(language_key(code), variant.where if variant.where.line else prompt.where)
        whisper = getattr(node, "whisper_language", "")  # the agents' language at a transfer
        if whisper:
            found.setdefault(language_key(whisper), at(ctx, node, "whisper_language"))
        if getattr(node, "whisper", False):  # an agent pool's first language is its whisper's
            for target in getattr(node, "targets", ()):
                pool = AgentPool.of(target)
                if pool is not None and pool.languages:
                    found.setdefault(language_key(pool.languages[0]), at(ctx, node, "to"))
    return found


def messages_for(flow: Flow, ctx: Context, catalogues: Catalogues) -> dict[str, Messages]:
    """One catalogue per language of ``flow``; reports (in ``ctx``) each language with no
    catalogue and the problems of the catalogue files the flow uses."""
    out: dict[str, Messages] = {}
    for language, where in languages_of(flow, ctx).items():
        ctx.problems.extend(catalogues.problems.get(language, ()))
        messages = catalogues.get(language)
        if messages is None:
            ctx.error(where, f"there are no messages for the language '{language}': the line could not speak "
                             "its own prompts (hold, key help, voicemail...) in it",
                      f"add {MESSAGES_FOLDER}/{language}.yaml beside the flows, with every key of the English "
                      "catalogue (ivr/model/catalogue/en.yaml)")
            continue
        out[language] = messages
    return out


# --- the list of messages in the guide ---------------------------------------------------
GUIDE_START = "<!-- messages: made by `python -m ivr.flows.catalogues --guide docs/GUIDE.md` from ivr/model/catalogue/en.yaml -->"
GUIDE_END = "<!-- end of messages -->"


def keys_markdown() -> str:
    """Every message of the line by key, grouped as ``en.yaml`` groups them, with its
    English words and the note written beside it."""
    import re

    from ivr.model.messages import english_source

    out: list[str] = []
    for line in english_source().splitlines():
        group = re.match(r"# --- (.*?) -+$", line)
        if group:
            title = group.group(1)
            out.append(f"\n**{title[:1].upper() + title[1:]}**\n\n| key | English |\n|---|---|")
            continue
        found = re.match(r'^([a-z0-9_]+): "(.*)"(?:\s*#\s*(.*))?$', line)
        if found:
            key, text, note = found.groups()
            shown = f'"{text}"' if text != text.strip() else text
            out.append(f"| `{key}` | {shown.replace('|', chr(92) + '|')}{f' ({note})' if note else ''} |")
        elif line.startswith("# ") and out and out[-1].startswith("| `"):
            out.append(f"| | *{line[2:]}* |")
    return "\n".join(out).strip("\n") + "\n"


def write_guide(path: Path) -> bool:
    """Put the list of messages between the markers of ``path``; True when it changed."""
    text = path.read_text(encoding="utf-8")
    if GUIDE_START not in text or GUIDE_END not in text:
        raise SystemExit(f"{path}: the markers {GUIDE_START!r} and {GUIDE_END!r} are missing")
    head, rest = text.split(GUIDE_START, 1)
    _, tail = rest.split(GUIDE_END, 1)
    new = f"{head}{GUIDE_START}\n{keys_markdown()}{GUIDE_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ivr.flows.catalogues",
                                     description="The line's own messages: print their list, or write it into the guide.")
    parser.add_argument("--guide", type=Path, help="rewrite the list of messages in this file (docs/GUIDE.md)")
    args = parser.parse_args(argv)
    if args.guide:
        print(f"{args.guide}: {'updated' if write_guide(args.guide) else 'already current'}")
    else:
        print(keys_markdown(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

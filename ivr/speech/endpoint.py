"""When has the caller finished speaking? Prompt kinds and how long each waits.

A caller answering "예" to a yes/no question is done as soon as they stop; a caller
reading out an order number pauses between groups of digits and is not done yet. So
the wait after the last word depends on what the prompt asked for:

=========  ==========================  ==============================================
kind       the prompt asks for          waits after the last word (``ENDPOINTING``)
=========  ==========================  ==============================================
yes_no     yes or no                    300 ms
menu       one of a few phrases         400 ms
digits     a string of digits           600 ms
open       anything else                500 ms
=========  ==========================  ==============================================

``prompt_kind(phrases)`` tells the kind from a prompt's phrases when the caller of this
module does not say it (a node whose phrases are all digit words asks for digits).

Rules of this file:

* Vosk 0.3.45 (the newest on PyPI) cannot change its end-of-utterance wait per
  recogniser: its rules come from the model's ``model.conf`` (0.5 s of trailing silence
  when the grammar has reached an end, 1.0 s otherwise) and ``SetEndpointerDelays``
  only exists in later builds. So ``QuietMeter`` measures the caller's silence itself,
  and the recogniser ends the utterance (``KaldiRecognizer.Result()``) once the words
  have been followed by ``Endpointing.after_words_ms`` of it.
* Quiet is relative, not absolute: a 20 ms frame is quiet when it is nearer the line's
  noise floor (a low percentile of the last 5 s) than the utterance's loudest frame.
  On a clean line that is digital silence; on a noisy one it is the noise. Noise that
  starts with the words (a caller walking into the street) is not in that floor yet, so
  a frame also counts as quiet within 6 dB of the last second's floor, if that is 12 dB
  under the utterance's loudest frame. A line too noisy to tell falls back to Vosk's own
  end-of-utterance rules.
"""
from __future__ import annotations

import math
import sys
from array import array
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from operator import mul
from typing import Literal

__all__ = [
    "PromptKind",
    "PROMPT_KINDS",
    "Endpointing",
    "ENDPOINTING",
    "prompt_kind",
    "QuietMeter",
]

PromptKind = Literal["yes_no", "menu", "digits", "open"]
PROMPT_KINDS: tuple[PromptKind, ...] = ("yes_no", "menu", "digits", "open")


@dataclass(frozen=True)
class Endpointing:
    """How long the caller must be quiet after their words before the utterance ends.

    ``after_words_ms``: quiet after the last word. ``wait_for_vosk``: when the line is
    too noisy for the quiet to be measured, Vosk's own end of utterance (0.5-1 s of
    trailing silence for the Korean model) is taken; False makes a long kind wait until
    Vosk has said so for ``after_words_ms`` minus half a second more.
    """

    after_words_ms: int
    wait_for_vosk: bool = True


ENDPOINTING: dict[str, Endpointing] = {
    "yes_no": Endpointing(300),
    "menu": Endpointing(400),
    "digits": Endpointing(600, wait_for_vosk=False),
    "open": Endpointing(500),
}

#: Words that make a prompt a digits or a yes/no prompt (the flows' own digit and
#: yes/no phrases, in the languages the demo lines speak).
_DIGIT_WORDS = frozenset({
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "영", "공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구",
})
_YES_NO_WORDS = frozenset({"yes", "no", "yeah", "nope", "예", "네", "아니요", "아니오", "아니"})


def prompt_kind(phrases: tuple[str, ...] | list[str], operator_phrases: tuple[str, ...] = ()) -> PromptKind:
    """The kind of prompt these phrases belong to (operator phrases do not count).

    >>> prompt_kind(["예", "네", "아니요"]), prompt_kind(["일", "이", "삼"]), prompt_kind(["주문 상태"])
    ('yes_no', 'digits', 'menu')
    """
    own = [p for p in phrases if p not in operator_phrases]
    if not own:
        return "open"
    words = {w.lower() for p in own for w in p.split()}
    if words <= _DIGIT_WORDS and len(own) >= 5:
        return "digits"
    if words <= _YES_NO_WORDS:
        return "yes_no"
    return "menu"


_FRAME_MS = 20
_FLOOR_WINDOW = 250  # frames (5 s) the noise floor is taken from
_FLOOR_PERCENTILE = 0.05
_LOWEST_FLOOR = -70.0  # dBFS: digital silence counts as this
_MIN_MARGIN = 6.0  # dB a frame must stand above the floor to count as speech
_SHARE = 0.35  # of the way from the floor to the utterance's loudest frame
_RECENT = 50  # frames (1 s): the line's level lately, for noise that starts with the words
_UNDER_WORDS = 12.0  # dB under the utterance's loudest frame that still counts as quiet
#: A frame louder than this is never "still" (``QuietMeter.still_ms``), whatever the line's
#: floor: telephone speech sits around -30 to -15 dBFS, a quiet line's noise under -50.
_STILL_CEILING = -45.0


class QuietMeter:
    """Feed the caller's 16-bit PCM; ``quiet_ms`` is how long they have been quiet.

    ``still_ms`` is the stricter measure the recogniser uses to leave audio out of the
    decoder (``recognizer.CallRecognizer``): how long every frame has stayed within
    ``_MIN_MARGIN`` of the line's noise floor and under ``_STILL_CEILING``, whatever the
    utterance before was. Soft speech counts as quiet after loud words (``quiet_ms``, to
    end an utterance) but never as still.
    """

    def __init__(self, sample_rate: int) -> None:
        self._frame_bytes = 2 * sample_rate * _FRAME_MS // 1000
        self._pending = bytearray()
        self._levels: deque[float] = deque(maxlen=_FLOOR_WINDOW)
        # the same levels kept in order (the last 5 s, the last second): the floor is a
        # percentile of each, read on every frame of every call, so no sort per frame
        self._ordered: list[float] = []
        self._recent: list[float] = []
        self._loudest = _LOWEST_FLOOR
        self.quiet_ms = 0
        self.still_ms = 0
        self.sounds = 0  # frames so far that were not still (whatever the line's history)

    def feed(self, pcm: bytes) -> None:
        self._pending += pcm
        whole = len(self._pending) - len(self._pending) % self._frame_bytes
        for offset in range(0, whole, self._frame_bytes):
            self._hear(_level(self._pending[offset : offset + self._frame_bytes]))
        del self._pending[:whole]

    def new_utterance(self) -> None:
        """The utterance ended: the next one's loudness is measured afresh."""
        self._loudest = _LOWEST_FLOOR

    def _hear(self, level: float) -> None:
        levels, ordered, recent = self._levels, self._ordered, self._recent
        if len(levels) == _FLOOR_WINDOW:
            del ordered[bisect_left(ordered, levels[0])]
        if len(levels) >= _RECENT:
            del recent[bisect_left(recent, levels[-_RECENT])]
        levels.append(level)
        insort(ordered, level)
        insort(recent, level)
        floor = max(ordered[int(_FLOOR_PERCENTILE * (len(ordered) - 1))], _LOWEST_FLOOR)
        self._loudest = max(self._loudest, level)
        threshold = floor + max(_MIN_MARGIN, _SHARE * (self._loudest - floor))
        line = recent[int(_FLOOR_PERCENTILE * (len(recent) - 1))]  # noise that came with the words
        threshold = max(threshold, min(line + _MIN_MARGIN, self._loudest - _UNDER_WORDS))
        self.quiet_ms = self.quiet_ms + _FRAME_MS if level < threshold else 0
        hushed = level < min(floor + _MIN_MARGIN, _STILL_CEILING)
        self.sounds += not hushed
        still = hushed and len(ordered) > _RECENT  # a second of the line first, to know its floor
        self.still_ms = self.still_ms + _FRAME_MS if still else 0


def _level(pcm: bytes | bytearray) -> float:
    samples = array("h")
    samples.frombytes(bytes(pcm))
    if sys.byteorder == "big":  # PCM on the wire is little-endian
        samples.byteswap()
    energy = sum(map(mul, samples, samples))
    if not energy:
        return _LOWEST_FLOOR * 2
    return 10.0 * math.log10(energy / len(samples) / 32768.0**2)

"""``MediaSession``: the sans-IO heart of the Media Streams websocket handler, one call.

The shell around it is a short loop::

    session = MediaSession(load_model(path), phrases_for_call=store_phrases,
                           operator_phrases=["상담원"])
    while (text := ws.receive()) is not None:
        for outcome in session.feed_message(text):
            ...  # Heard -> SpeechHeard + redirect; NotUnderstood -> a misunderstanding;
                 # OperatorNow -> transfer; Ended -> break

Rules of this file:

* Text frame -> ``StreamDecoder`` -> mu-law decode -> 8->16 kHz upsampling (when the
  recogniser runs at 16 kHz) -> ``CallRecognizer``. Only the inbound (caller) track is
  heard; our own prompts on the outbound track are ignored.
* Every utterance with words yields exactly one outcome, decided on its final result
  (``answers.judge``), never on a partial: partials change, and "이 상담원" on the way
  to "이 삼 사 오" must not reach a person. ``OperatorNow`` when the final ends with an
  operator phrase, ``Heard`` when it is one of the prompt's answers, ``NotUnderstood``
  otherwise (out-of-grammar speech, unknown words only, low confidence). A partial that
  ends with an operator phrase, stays the same for ``operator_hold_ms`` of audio and is
  followed by a pause only ends the utterance sooner: its final still decides. Silence and noise that Vosk ends with no
  words (or with words over silent audio) give nothing.
* The grammar follows the call: ``phrases_for_call(call_sid)`` is asked when the stream
  starts, after every utterance, and every ``recheck_ms`` of audio while the caller is
  silent; the recogniser is rebuilt only when the phrases (or the prompt kind) changed.
  It may answer with phrases, or with a ``Prompt`` that also names the prompt kind; with
  phrases only, the kind is told from them (``endpoint.prompt_kind``). The kind sets how
  long the caller's silence must last before an utterance ends. The operator phrases are
  always part of the grammar.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .answers import CONFIDENCE_FLOOR, Answer, NotAnAnswer, PersonWanted, judge
from .audio import Upsampler, ulaw_to_pcm16
from .codec import Media, ProtocolError, Started, Stopped, StreamDecoder
from .endpoint import ENDPOINTING, PROMPT_KINDS, PromptKind, prompt_kind
from .recognizer import SAMPLE_RATE, CallRecognizer, Final, Partial

__all__ = [
    "MediaSession",
    "Prompt",
    "Heard",
    "NotUnderstood",
    "OperatorNow",
    "Ended",
    "StreamProblem",
    "Outcome",
]


@dataclass(frozen=True)
class Prompt:
    """What the call's current prompt listens for: its phrases, and what kind of answer
    it asks for (``yes_no``, ``menu``, ``digits`` or ``open``; None: told from the
    phrases)."""

    phrases: tuple[str, ...]
    kind: PromptKind | None = None


@dataclass(frozen=True)
class Heard:
    """The caller gave one of the prompt's answers (becomes the engine's ``SpeechHeard``).

    ``text`` is never empty: speech that is none of the answers is ``NotUnderstood``.
    """

    text: str
    confidence: float
    loudness_dbfs: float
    duration: float


@dataclass(frozen=True)
class NotUnderstood:
    """The caller spoke, but said none of the prompt's answers (a misunderstanding: the
    flow says sorry and asks again, it is not silence). ``heard`` is what the grammar's
    words made of it, for logs; ``why`` says why it was not taken as an answer."""

    heard: str
    why: str
    confidence: float
    loudness_dbfs: float
    duration: float


@dataclass(frozen=True)
class OperatorNow:
    """The caller asked for a person; act now, without waiting for the utterance end."""

    text: str


@dataclass(frozen=True)
class Ended:
    """The stream stopped; close the socket."""


@dataclass(frozen=True)
class StreamProblem:
    """A message could not be used (log it with the call id; the stream goes on)."""

    reason: str


Outcome = Heard | NotUnderstood | OperatorNow | Ended | StreamProblem

_INBOUND = ("inbound", "inbound_track")
#: A partial result ending with an operator phrase counts once the caller has paused
#: this long: forced onto out-of-grammar speech, "상담원" can hold still for a while
#: with the caller still talking.
_OPERATOR_PAUSE_MS = 300
#: Words whose audio is this quiet are not speech: a word Vosk places in the silence
#: after an utterance it was made to end early (digital silence measures -120 dBFS).
_SILENT_DBFS = -60.0


class MediaSession:
    """One call's Media Stream: feed it websocket text frames, get outcomes back.

    ``kind`` is the first prompt's kind (None: told from its phrases);
    ``operator_hold_ms`` how long a partial result ending with an operator phrase must
    stay unchanged (then a pause) before the utterance is ended early and judged;
    ``confidence_floor`` the Vosk word confidence under which a word is not taken as said.
    """

    def __init__(
        self,
        model: Any,
        phrases_for_call: Callable[[str], Iterable[str] | Prompt] | None = None,
        *,
        phrases: Iterable[str] = (),
        kind: PromptKind | None = None,
        operator_phrases: Iterable[str] = (),
        sample_rate: int = SAMPLE_RATE,
        recheck_ms: int = 1000,
        operator_hold_ms: int = 400,
        confidence_floor: float = CONFIDENCE_FLOOR,
    ) -> None:
        self._model = model
        self._phrases_for_call = phrases_for_call
        self._node_phrases: tuple[str, ...] = tuple(phrases)
        self._kind = kind
        self.operator_phrases = tuple(" ".join(p.split()) for p in operator_phrases if p.strip())
        self._sample_rate = sample_rate
        self._recheck_samples = recheck_ms * 8  # 8 mu-law samples per ms
        self._hold_samples = operator_hold_ms * 8
        self.confidence_floor = confidence_floor
        self._decoder = StreamDecoder()
        self._upsampler = Upsampler() if sample_rate == 16000 else None
        self._recognizer: CallRecognizer | None = None
        self._since_recheck = 0
        self._heard_samples = 0  # caller audio so far (8 kHz samples)
        self._partial = ""
        self._partial_since = 0  # when the partial result last changed

    # -- what the shell reads ------------------------------------------------

    @property
    def started(self) -> Started | None:
        return self._decoder.started

    @property
    def call_sid(self) -> str | None:
        return self.started.call_sid if self.started else None

    @property
    def custom_parameters(self) -> Mapping[str, str]:
        return self.started.custom_parameters if self.started else {}

    @property
    def phrases(self) -> tuple[str, ...]:
        """The grammar in force: the node's phrases, then the operator phrases."""
        return tuple(dict.fromkeys(self._node_phrases + self.operator_phrases))

    @property
    def kind(self) -> PromptKind:
        """The prompt kind in force: as given (a kind this module does not know, such as
        a flow's ``number`` slot, counts as ``open``), or told from the phrases."""
        if self._kind is None:
            return prompt_kind(self._node_phrases, self.operator_phrases)
        return self._kind if self._kind in PROMPT_KINDS else "open"

    # -- input -----------------------------------------------------------------

    def set_phrases(self, phrases: Iterable[str], kind: PromptKind | None = None) -> None:
        """Listen for the phrases of the node the call is at now (``kind``: what the
        prompt asks for; None: told from the phrases)."""
        phrases = tuple(phrases)
        if (phrases, kind) == (self._node_phrases, self._kind) and self._recognizer is not None:
            return
        self._node_phrases, self._kind = phrases, kind
        if self._recognizer is not None:
            self._recognizer.set_phrases(self.phrases, ENDPOINTING[self.kind])
            self._new_utterance()

    def feed_message(self, text: str | bytes) -> list[Outcome]:
        """One websocket text frame in; what happened out."""
        outcomes: list[Outcome] = []
        for event in self._decoder.feed(text):
            if isinstance(event, Media):
                if event.track in _INBOUND and self._recognizer is not None:
                    outcomes += self._hear(event.payload)
            elif isinstance(event, Started):
                self._refresh_phrases()
                self._recognizer = CallRecognizer(
                    self._model, self.phrases, self._sample_rate, endpointing=ENDPOINTING[self.kind]
                )
            elif isinstance(event, Stopped):
                if self._recognizer is not None:
                    outcomes += self._results(self._recognizer.flush())
                outcomes.append(Ended())
            elif isinstance(event, ProtocolError):
                outcomes.append(StreamProblem(event.reason))
        return outcomes

    # -- private ---------------------------------------------------------------

    def _hear(self, ulaw: bytes) -> list[Outcome]:
        assert self._recognizer is not None
        pcm = ulaw_to_pcm16(ulaw)
        if self._upsampler is not None:
            pcm = self._upsampler.feed(pcm)
        self._heard_samples += len(ulaw)
        outcomes = self._results(self._recognizer.feed(pcm))
        outcomes += self._stable_operator()
        self._since_recheck += len(ulaw)
        if self._since_recheck >= self._recheck_samples and not self._recognizer.in_utterance:
            self._since_recheck = 0
            self._refresh_phrases()
        return outcomes

    def _results(self, results: Sequence[Partial | Final]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for result in results:
            if isinstance(result, Partial):
                if result.text != self._partial:
                    self._partial, self._partial_since = result.text, self._heard_samples
                continue
            if result.loudness_dbfs > _SILENT_DBFS:
                outcomes.append(self._outcome(result))
            self._new_utterance()
            self._refresh_phrases()
        return outcomes

    def _outcome(self, final: Final) -> Heard | NotUnderstood | OperatorNow:
        verdict = judge(
            final.words,
            self._node_phrases,
            self.operator_phrases,
            digits=self.kind == "digits",
            floor=self.confidence_floor,
        )
        if isinstance(verdict, PersonWanted):
            return OperatorNow(verdict.text)
        if isinstance(verdict, Answer):
            return Heard(verdict.text, final.confidence, final.loudness_dbfs, final.duration)
        assert isinstance(verdict, NotAnAnswer)
        return NotUnderstood(verdict.heard, verdict.why, final.confidence, final.loudness_dbfs, final.duration)

    def _stable_operator(self) -> list[Outcome]:
        """A partial ending with an operator phrase held still and the caller paused: end
        the utterance now, without the prompt kind's full wait, and judge its final."""
        if not self._partial or self._heard_samples - self._partial_since < self._hold_samples:
            return []
        assert self._recognizer is not None
        if self._recognizer.quiet_ms < _OPERATOR_PAUSE_MS:  # still talking: it may change
            return []
        words = self._partial.split()
        if not any(words[-len(p.split()) :] == p.split() for p in self.operator_phrases):
            return []
        return self._results(self._recognizer.flush())

    def _new_utterance(self) -> None:
        self._partial, self._partial_since = "", self._heard_samples

    def _refresh_phrases(self) -> None:
        if self._phrases_for_call is not None and self.call_sid is not None:
            answer = self._phrases_for_call(self.call_sid)
            if isinstance(answer, Prompt):
                self.set_phrases(answer.phrases, answer.kind)
            else:
                self.set_phrases(answer)

"""``MediaSession``: the sans-IO heart of the Media Streams websocket handler, one call.

The shell around it is a short loop::

    session = MediaSession(load_model(path), phrases_for_call=store_phrases,
                           operator_phrases=["상담원"])
    while (text := ws.receive()) is not None:
        for outcome in session.feed_message(text):
            ...  # Heard -> SpeechHeard + redirect; OperatorNow -> transfer; Ended -> break

Rules of this file:

* Text frame -> ``StreamDecoder`` -> mu-law decode -> 8->16 kHz upsampling (when the
  recogniser runs at 16 kHz) -> ``CallRecognizer``. Only the inbound (caller) track is
  heard; our own prompts on the outbound track are ignored.
* Every utterance yields exactly one outcome: ``OperatorNow`` as soon as a partial (or
  the final) result contains an operator phrase, otherwise ``Heard`` at its end. An
  utterance whose words were all out of grammar gives ``Heard(text="")`` (a no-match);
  silence and noise that Vosk ends with no words give nothing.
* The grammar follows the call: ``phrases_for_call(call_sid)`` is asked when the stream
  starts, after every utterance, and every ``recheck_ms`` of audio while the caller is
  silent; the recogniser is rebuilt only when the phrases changed. The operator phrases
  are always part of the grammar.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .audio import Upsampler, ulaw_to_pcm16
from .codec import Media, ProtocolError, Started, Stopped, StreamDecoder
from .recognizer import SAMPLE_RATE, CallRecognizer, Final, Partial

__all__ = ["MediaSession", "Heard", "OperatorNow", "Ended", "StreamProblem", "Outcome"]


@dataclass(frozen=True)
class Heard:
    """The caller finished an utterance (becomes the engine's ``SpeechHeard``)."""

    text: str
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


Outcome = Heard | OperatorNow | Ended | StreamProblem

_INBOUND = ("inbound", "inbound_track")


class MediaSession:
    """One call's Media Stream: feed it websocket text frames, get outcomes back."""

    def __init__(
        self,
        model: Any,
        phrases_for_call: Callable[[str], Iterable[str]] | None = None,
        *,
        phrases: Iterable[str] = (),
        operator_phrases: Iterable[str] = (),
        sample_rate: int = SAMPLE_RATE,
        recheck_ms: int = 1000,
    ) -> None:
        self._model = model
        self._phrases_for_call = phrases_for_call
        self._node_phrases: tuple[str, ...] = tuple(phrases)
        self.operator_phrases = tuple(" ".join(p.split()) for p in operator_phrases if p.strip())
        self._sample_rate = sample_rate
        self._recheck_samples = recheck_ms * 8  # 8 mu-law samples per ms
        self._decoder = StreamDecoder()
        self._upsampler = Upsampler() if sample_rate == 16000 else None
        self._recognizer: CallRecognizer | None = None
        self._operator_sent = False  # OperatorNow already sent for this utterance
        self._since_recheck = 0

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

    # -- input -----------------------------------------------------------------

    def set_phrases(self, phrases: Iterable[str]) -> None:
        """Listen for the phrases of the node the call is at now."""
        phrases = tuple(phrases)
        if phrases == self._node_phrases and self._recognizer is not None:
            return
        self._node_phrases = phrases
        if self._recognizer is not None:
            self._recognizer.set_phrases(self.phrases)
            self._operator_sent = False

    def feed_message(self, text: str | bytes) -> list[Outcome]:
        """One websocket text frame in; what happened out."""
        outcomes: list[Outcome] = []
        for event in self._decoder.feed(text):
            if isinstance(event, Media):
                if event.track in _INBOUND and self._recognizer is not None:
                    outcomes += self._hear(event.payload)
            elif isinstance(event, Started):
                self._refresh_phrases()
                self._recognizer = CallRecognizer(self._model, self.phrases, self._sample_rate)
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
        outcomes = self._results(self._recognizer.feed(pcm))
        self._since_recheck += len(ulaw)
        if self._since_recheck >= self._recheck_samples and not self._recognizer.in_utterance:
            self._since_recheck = 0
            self._refresh_phrases()
        return outcomes

    def _results(self, results: Sequence[Partial | Final]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for result in results:
            operator = not self._operator_sent and self._mentions_operator(result.text)
            if operator:
                outcomes.append(OperatorNow(result.text))
                self._operator_sent = True
            if isinstance(result, Final):
                if not self._operator_sent:
                    outcomes.append(
                        Heard(result.text, result.confidence, result.loudness_dbfs, result.duration)
                    )
                self._operator_sent = False
                self._refresh_phrases()
        return outcomes

    def _mentions_operator(self, text: str) -> bool:
        padded = f" {' '.join(text.split())} "
        return any(f" {phrase} " in padded for phrase in self.operator_phrases)

    def _refresh_phrases(self) -> None:
        if self._phrases_for_call is not None and self.call_sid is not None:
            self.set_phrases(self._phrases_for_call(self.call_sid))

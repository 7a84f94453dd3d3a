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
* The grammar follows the call. The shell pushes each new prompt with ``switch`` (the
  server publishes it on the store's bus the moment a webhook moves the call on, before
  Twilio plays the prompt), and ``phrases_for_call(call_sid)`` is asked when the stream
  starts and once after each utterance: if the store names another prompt than the one
  the utterance was decoded for (a push that never came), the utterance is decoded again
  with the prompt's grammar. There is no polling while the caller is silent.
* A switch keeps the audio: the session holds the caller's audio since the last decided
  utterance (at most ``KEEP_MS``), and a new recogniser with the new grammar is fed the
  last ``keep_ms`` of it, so an answer begun before the switch reached the socket is
  heard whole with the new grammar. The old recogniser's half-heard utterance belonged
  to the prompt the call has left and is dropped (measured: tests/speech
  test_speech_switch.py).
* Each prompt may carry a ``tag`` (the server's prompt number); every outcome names the
  tag of the grammar it was decoded with, so the shell can tell an answer to a prompt
  the call has already left. The prompt kind sets how long the caller's silence must
  last before an utterance ends. The operator phrases are always part of the grammar.
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
    phrases). ``tag``: the server's number for the prompt, handed back with every outcome
    decoded with this grammar."""

    phrases: tuple[str, ...]
    kind: PromptKind | None = None
    tag: int | None = None


@dataclass(frozen=True)
class Heard:
    """The caller gave one of the prompt's answers (becomes the engine's ``SpeechHeard``).

    ``text`` is never empty: speech that is none of the answers is ``NotUnderstood``.
    """

    text: str
    confidence: float
    loudness_dbfs: float
    duration: float
    prompt: int | None = None  # the tag of the prompt it answers


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
    prompt: int | None = None  # the tag of the prompt it answers


@dataclass(frozen=True)
class OperatorNow:
    """The caller asked for a person; act now, without waiting for the utterance end."""

    text: str
    prompt: int | None = None  # the tag of the prompt it was said at


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


#: The caller's audio kept since the last decided utterance, for a grammar switch.
KEEP_MS = 4000


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
        tag: int | None = None,
        operator_phrases: Iterable[str] = (),
        sample_rate: int = SAMPLE_RATE,
        operator_hold_ms: int = 400,
        confidence_floor: float = CONFIDENCE_FLOOR,
    ) -> None:
        self._model = model
        self._phrases_for_call = phrases_for_call
        self._node_phrases: tuple[str, ...] = tuple(phrases)
        self._kind = kind
        self.tag = tag
        self.operator_phrases = tuple(" ".join(p.split()) for p in operator_phrases if p.strip())
        self._sample_rate = sample_rate
        self._hold_samples = operator_hold_ms * 8
        self.confidence_floor = confidence_floor
        self._decoder = StreamDecoder()
        self._upsampler = Upsampler() if sample_rate == 16000 else None
        self._recognizer: CallRecognizer | None = None
        self._heard_samples = 0  # caller audio so far (8 kHz samples)
        self._partial = ""
        self._partial_since = 0  # when the partial result last changed
        self._kept = bytearray()  # PCM (at sample_rate) since the last decided utterance
        self._keep_bytes = 2 * sample_rate * KEEP_MS // 1000
        self.switches = 0  # grammars switched to after the start (for the shell's logs)
        self._open_for: tuple[str, ...] | None = None
        self._open = False
        self._held_before = 0  # held-back audio of the recognisers before this one

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

    @property
    def mid_utterance(self) -> bool:
        """The caller is saying something that has not ended yet (words in a partial
        result, or sound on the line lately: a grammar's partials come late)."""
        rec = self._recognizer
        return rec is not None and self._heard_samples > 0 and (rec.in_utterance or rec.quiet_ms < _OPERATOR_PAUSE_MS)

    @property
    def held_back_ms(self) -> int:
        """The caller's audio left out of the decoder so far: a still line (``recognizer``)."""
        rec = self._recognizer
        return self._held_before + (rec.held_back_ms if rec is not None else 0)

    @property
    def stopped(self) -> bool:
        """The stream's ``stop`` message has come."""
        return self._decoder.state == "stopped"

    # -- input -----------------------------------------------------------------

    def switch(self, prompt: Prompt | Iterable[str], keep_ms: int = 0) -> list[Outcome]:
        """The call moved on to ``prompt``: listen with its grammar from now on, and
        decode the last ``keep_ms`` of the caller's audio (since the last decided
        utterance) again with it. Returns what that audio amounts to (often nothing).
        The same prompt again changes nothing."""
        prompt = prompt if isinstance(prompt, Prompt) else Prompt(tuple(prompt))
        same = (prompt.phrases, prompt.kind, prompt.tag) == (self._node_phrases, self._kind, self.tag)
        if same and self._recognizer is not None:
            return []
        self._node_phrases, self._kind, self.tag = tuple(prompt.phrases), prompt.kind, prompt.tag
        if self._recognizer is None:  # before the start: the start builds the recogniser
            return []
        return self._rebuild(keep_ms)

    def set_phrases(self, phrases: Iterable[str], kind: PromptKind | None = None) -> None:
        """Listen for the phrases of the node the call is at now (``kind``: what the
        prompt asks for; None: told from the phrases), keeping no audio."""
        self.switch(Prompt(tuple(phrases), kind, self.tag))

    def feed_message(self, text: str | bytes) -> list[Outcome]:
        """One websocket text frame in; what happened out."""
        outcomes: list[Outcome] = []
        for event in self._decoder.feed(text):
            if isinstance(event, Media):
                if event.track in _INBOUND and self._recognizer is not None:
                    outcomes += self._hear(event.payload)
            elif isinstance(event, Started):
                self._current_prompt()
                self._recognizer = self._new_recognizer()
            elif isinstance(event, Stopped):
                if self._recognizer is not None:
                    outcomes += self._results(self._recognizer.flush(), checked=True)
                outcomes.append(Ended())
            elif isinstance(event, ProtocolError):
                outcomes.append(StreamProblem(event.reason))
        return outcomes

    # -- private ---------------------------------------------------------------

    def _new_recognizer(self) -> CallRecognizer:
        if self._recognizer is not None:
            self._held_before += self._recognizer.held_back_ms
        return CallRecognizer(self._model, self.phrases, self._sample_rate, endpointing=ENDPOINTING[self.kind])

    @property
    def open_prompt(self) -> bool:
        """The prompt has no phrases of its own (a date, free words): our recogniser
        stays out of it. A grammar of the operator phrase alone forces every answer onto
        it (a date said aloud came out as "상담원" 20 times in 20), and the small model's
        whole vocabulary did not hear one date in 20: such prompts are Twilio's to hear."""
        if self._open_for is not self._node_phrases:  # asked on every frame: worked out once per prompt
            self._open_for = self._node_phrases
            self._open = not [p for p in self._node_phrases if " ".join(p.split()) not in self.operator_phrases]
        return self._open

    def _rebuild(self, keep_ms: int) -> list[Outcome]:
        """A recogniser for the grammar in force, fed the last ``keep_ms`` of kept audio."""
        self.switches += 1
        keep = min(max(keep_ms, 0) * 2 * self._sample_rate // 1000, len(self._kept))
        again = bytes(self._kept[len(self._kept) - keep :]) if keep else b""
        self._kept = bytearray(again)
        self._recognizer = self._new_recognizer()
        self._new_utterance()
        return self._results(self._recognizer.feed(again), checked=True) if again else []

    def _hear(self, ulaw: bytes) -> list[Outcome]:
        assert self._recognizer is not None
        pcm = ulaw_to_pcm16(ulaw)
        if self._upsampler is not None:
            pcm = self._upsampler.feed(pcm)
        self._heard_samples += len(ulaw)
        self._kept += pcm
        if len(self._kept) > self._keep_bytes:
            del self._kept[: len(self._kept) - self._keep_bytes]
        if self._phrases_for_call is not None and self.open_prompt:
            return []  # kept for a switch, never decoded: Twilio's recogniser hears this prompt
        outcomes = self._results(self._recognizer.feed(pcm))
        outcomes += self._stable_operator()
        return outcomes

    def _results(self, results: Sequence[Partial | Final], checked: bool = False) -> list[Outcome]:
        """Outcomes of the recogniser's results. A final is first checked against the
        prompt the call is at now (``checked``: it was just decoded for it)."""
        outcomes: list[Outcome] = []
        for result in results:
            if isinstance(result, Partial):
                if result.text != self._partial:
                    self._partial, self._partial_since = result.text, self._heard_samples
                continue
            if not checked and self._current_prompt():
                # the call moved on and no push said so: decode the utterance again with
                # the prompt it is at now (the switch hears it, this final is dropped)
                return outcomes + self._rebuild(KEEP_MS)
            if result.loudness_dbfs > _SILENT_DBFS:
                outcomes.append(self._outcome(result))
            self._new_utterance()
            self._kept.clear()
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
            return OperatorNow(verdict.text, self.tag)
        if isinstance(verdict, Answer):
            return Heard(verdict.text, final.confidence, final.loudness_dbfs, final.duration, self.tag)
        assert isinstance(verdict, NotAnAnswer)
        return NotUnderstood(verdict.heard, verdict.why, final.confidence, final.loudness_dbfs, final.duration,
                             self.tag)

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

    def _current_prompt(self) -> bool:
        """Ask the server where the call is; True when that is another prompt than the
        one in force (the phrases, kind and tag are then those of the new prompt)."""
        if self._phrases_for_call is None or self.call_sid is None:
            return False
        answer = self._phrases_for_call(self.call_sid)
        prompt = answer if isinstance(answer, Prompt) else Prompt(tuple(answer), None, self.tag)
        if (prompt.phrases, prompt.kind, prompt.tag) == (self._node_phrases, self._kind, self.tag):
            return False
        self._node_phrases, self._kind, self.tag = tuple(prompt.phrases), prompt.kind, prompt.tag
        return True

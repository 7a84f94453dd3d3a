"""A socket that fell behind hands the recogniser what piled up at once
(``MediaSession.feed_messages``): the same words are heard as frame by frame, in far fewer
calls into Vosk. Real Korean model, committed recordings, Twilio's message format."""
from __future__ import annotations

import json

from conftest import DEMO_NODES, OPERATOR, SILENCE, start_message

import ivr.speech.recognizer as recognizer
from ivr.speech.codec import media_message
from ivr.speech.pipeline import Heard, MediaSession, OperatorNow


def messages(*audio: bytes) -> list[str]:
    out = [json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}), start_message()]
    sent = 0
    for piece in audio:
        for i in range(0, len(piece), 160):
            out.append(media_message("MZ0001", len(out), sent // 8, piece[i:i + 160]))
            sent += 160
    return out


def said(outcomes) -> list[str]:
    return [o.text for o in outcomes if isinstance(o, (Heard, OperatorNow))]


def test_batches_hear_what_single_frames_hear_with_fewer_calls_into_vosk(korean_model, utterances, monkeypatch):
    calls = {"n": 0}
    accept = recognizer._accept

    def counted(rec, pcm, partial):
        calls["n"] += 1
        return accept(rec, pcm, partial)

    monkeypatch.setattr(recognizer, "_accept", counted)
    for uid in ("order_status", "hours", "balance", "agent"):
        u = utterances[uid]
        stream = messages(SILENCE * 4000, u.audio, SILENCE * 12000)
        one = MediaSession(korean_model, phrases=DEMO_NODES["menu"], operator_phrases=OPERATOR)
        calls["n"] = 0
        singles = [o for m in stream for o in one.feed_message(m)]
        single_calls = calls["n"]
        many = MediaSession(korean_model, phrases=DEMO_NODES["menu"], operator_phrases=OPERATOR)
        calls["n"] = 0
        batched = [o for i in range(0, len(stream), 25) for o in many.feed_messages(stream[i:i + 25])]
        assert said(batched) == said(singles) == [u.text], (uid, batched, singles)
        assert calls["n"] * 3 <= single_calls, (uid, calls["n"], single_calls)


def test_a_stop_inside_a_batch_ends_the_stream_after_the_audio_before_it(korean_model, utterances):
    u = utterances["order_status"]
    stream = messages(SILENCE * 4000, u.audio)
    stream.append(json.dumps({"event": "stop", "sequenceNumber": "9", "streamSid": "MZ0001",
                              "stop": {"accountSid": "AC0001", "callSid": "CA0001"}}))
    stream += messages(u.audio)[2:]  # after the stop: never heard
    session = MediaSession(korean_model, phrases=DEMO_NODES["menu"], operator_phrases=OPERATOR)
    outcomes = session.feed_messages(stream)
    assert said(outcomes) == ["주문 상태"]
    assert session.stopped

"""What our recogniser decides, in whole calls over a real media socket with the real
Korean Vosk model (the committed espeak-ng recordings, audio/test_utterances):

* a person only when the caller asks: in-grammar answers whose partial results pass
  through "상담원" (noise, more words) are delivered as the answers they are;
* out-of-grammar speech is a misunderstanding: the line says sorry and asks again, then
  hands the caller to a person by the flow's retry policy;
* how long the caller's silence must last follows the prompt kind: after 0.45 s of it a
  yes/no answer has been acted on, a digit string not yet (the caller may go on);
* a date said aloud: a prompt with no phrases of its own is heard by Twilio's
  recogniser (the Korean small model hears no espeak date, with a grammar or without:
  pipeline.py), even while our stream is up, and the date fills the slot.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import responses
from stream_support import MediaStream, Server, Twilio, audio, korean_call, wait_for

from ivr.speech.audio import rms_dbfs, ulaw_to_pcm16

NOT_UNDERSTOOD = "잘 알아듣지 못했습니다"  # the Korean line's "Sorry, I didn't get that."
TO_A_PERSON = "상담원에게 연결"
YES_NO_QUESTION = "더 도와 드릴 일이"
FLOWS = Path(__file__).parent / "flows"


@pytest.fixture
def server(tmp_path):
    server = Server(f"sqlite:///{tmp_path}/calls.sqlite3", var_dir=tmp_path)
    yield server
    server.close()


@pytest.fixture
def twilio(server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield Twilio(rsps, server)


def streaming(server, call) -> MediaStream:
    media = MediaStream.of(server, call)
    wait_for(lambda: server.live(call.params["CallSid"]).streaming, what="the stream to be up")
    return media


@pytest.mark.parametrize("uid", ["hours_noise", "hours_phone"])
def test_an_answer_in_noise_goes_where_it_says_never_to_a_person(server, twilio, uid):
    call = korean_call(server)
    media = streaming(server, call)
    media.say(uid)
    twilio.follow(call)
    if not call.heard(YES_NO_QUESTION) and call.heard(NOT_UNDERSTOOD):
        # Vosk does not decode a noisy recording the same way every time in one process
        # ("영업 시간" or "영업 영업 시간" for hours_phone): the line asked again, and a caller
        # says it again
        media.say(uid)
        twilio.follow(call)
    assert call.heard(YES_NO_QUESTION), call.transcript  # the hours, then "anything else?"
    assert not call.heard(TO_A_PERSON) and call.state != "dialing"
    media.say("no_thanks_noise")  # "아니요 괜찮습니다" in noise: its partials pass through 상담원
    twilio.follow(call)
    live = server.live(call.params["CallSid"])  # heard as "no", or not understood: never a person
    assert live.session.slots.get("more") in ("no", None), (live.session.slots, call.transcript)
    assert live.session.phase != "transfer" and not call.heard(TO_A_PERSON), call.transcript
    assert live.session.turns[-1].kind == "speech", live.session.turns
    media.stop()


def test_a_caller_who_asks_for_a_person_at_a_yes_no_question_reaches_one(server, twilio):
    call = korean_call(server)
    media = streaming(server, call)
    media.say("hours")
    twilio.follow(call)
    assert call.heard(YES_NO_QUESTION), call.transcript
    media.say("agent_at_yes_no")  # "상담원"
    twilio.follow(call)
    assert call.heard(TO_A_PERSON), call.transcript
    media.stop()


def test_out_of_grammar_speech_is_asked_again_then_a_person_by_the_retry_policy(server, twilio):
    call = korean_call(server)
    media = streaming(server, call)
    media.say("oog_refund")  # "환불하고 싶어요": none of the menu's answers
    twilio.follow(call)
    assert call.heard(NOT_UNDERSTOOD), call.transcript
    assert not call.heard(TO_A_PERSON)
    media.say("oog_thanks")  # "감사합니다 수고하세요"
    twilio.follow(call)
    assert call.heard(NOT_UNDERSTOOD) or call.heard_ever(NOT_UNDERSTOOD), call.transcript
    assert call.heard(TO_A_PERSON), call.transcript  # retry: {no_match: 2, then: front_desk}
    live = server.live(call.params["CallSid"])
    assert [t.result for t in live.session.turns if t.kind == "speech"] == ["no_match", "no_match"]
    media.stop()


def test_a_date_said_aloud_fills_a_date_slot_through_twilios_recogniser(tmp_path):
    server = Server(f"sqlite:///{tmp_path}/calls.sqlite3", flows_dir=FLOWS, var_dir=tmp_path)
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            twilio = Twilio(rsps, server)
            call = korean_call(server, korean=False)
            media = streaming(server, call)
            call.press("1")
            assert call.heard("배송 날짜"), call.transcript
            assert call.gather.input == "dtmf speech"  # the stream is up, but dates are Twilio's to hear
            assert len(call.streams) == 1  # and no other stream was started
            media.say("hours")  # our recogniser stays out of this prompt: nothing is delivered
            media.silence(1.0)
            assert twilio.redirects(call.params["CallSid"]) == []
            call.say("삼월 삼일")
            day = server.live(call.params["CallSid"]).session.slots.get("day", "")
            assert day.endswith("-03-03"), (day, call.transcript)  # March 3rd, the next one to come
            media.stop()
    finally:
        server.close()


def words_only(uid: str) -> bytes:
    """A recording without the silence before and after its words."""
    recording = audio(uid)
    frames = [recording[i:i + 160] for i in range(0, len(recording), 160)]
    loud = [i for i, f in enumerate(frames) if rms_dbfs(ulaw_to_pcm16(f)) > -45]
    return b"".join(frames[loud[0]:loud[-1] + 1])


def acted_on_after(media: MediaStream, twilio: Twilio, uid: str, pause: float, wait: float) -> bool:
    """The caller says ``uid`` then is silent for ``pause`` seconds, and the line sends
    nothing more for ``wait`` seconds: was the answer acted on (the call redirected)?"""
    before = len(twilio.redirects(media.call_sid))
    media.silence(0.3)
    media.play(words_only(uid))
    media.silence(pause)
    try:
        wait_for(lambda: len(twilio.redirects(media.call_sid)) > before, wait)
    except AssertionError:
        return False
    return True


def test_a_yes_no_answer_is_acted_on_after_a_shorter_silence_than_a_digit_string(server, twilio):
    call = korean_call(server)
    media = streaming(server, call)
    call.press("1")  # the order number: a digits prompt
    assert call.heard("주문 번호"), call.transcript
    assert not acted_on_after(media, twilio, "digits_502", 0.45, 3.0)  # the caller may read on
    media.silence(0.5)  # ... they do not: now it is acted on
    wait_for(lambda: twilio.redirects(call.params["CallSid"]), what="the digits to be acted on")
    twilio.follow(call)
    media.stop()

    call = korean_call(server)
    media = streaming(server, call)
    media.say("hours")
    twilio.follow(call)
    assert call.heard(YES_NO_QUESTION), call.transcript
    assert acted_on_after(media, twilio, "yes", 0.45, 10.0)  # a yes/no answer: acted on already
    media.stop()

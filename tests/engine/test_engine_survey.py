"""The survey after the call, step by step through the engine (pure): which endings ask
it, what each answer does, and property tests that a survey never traps a caller."""
from __future__ import annotations

from engine_support import Phone, flow_from
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.engine import engine
from ivr.model.events import NoInput
from ivr.model.phases import Phase

LINE = """
flow: rated
language: ko-KR
operator: {to: desk, phrases: [상담원, agent]}
survey:
  question:
    ko-KR: "이번 통화를 1점에서 5점으로 평가해 주세요."
  thanks:
    ko-KR: "감사합니다."
start: main
nodes:
  main:
    menu:
      prompt: "1번은 영업 시간, 2번은 상담원, 3번은 콜백."
      options:
        - {keys: "1", go: hours}
        - {keys: "2", go: desk}
        - {keys: "3", go: call_back}
  hours:
    say: "영업 시간은 9시부터 5시까지입니다."
    go: bye
  bye:
    hangup: "안녕히 계세요."
  desk:
    transfer: {to: [client:ann], reason: "Asked for a person", fallback: call_back}
  call_back:
    callback: {prompt: "한 시간 안에 다시 전화 드리겠습니다.", within_minutes: 60}
"""


def served() -> Phone:
    call = Phone(flow_from(LINE))
    call.start()
    call.press("1")
    return call


def test_the_question_in_the_callers_language_then_the_goodbye_last():
    call = served()
    assert call.heard("영업 시간은") and call.heard("평가해 주세요") and not call.heard("안녕히")
    assert call.session.phase is Phase.SURVEY and call.listening_at == "bye"
    call.press("4")
    assert call.text.index("감사합니다") < call.text.index("안녕히 계세요") and call.hung_up
    assert call.session.survey["csat"] == 4 and call.session.survey["status"] == "answered"
    assert not [t for t in call.session.turns if t.node == "bye"]  # the answers are not turns of the flow


def test_a_prompt_without_the_callers_language_is_said_in_the_lines_own_words():
    call = served()
    call.press("7")  # the flow has no retry text: the line's Korean one
    assert call.heard("1번부터 5번 중에서") and call.heard("평가해 주세요")


def test_the_operator_phrase_in_the_survey_reaches_a_person():
    call = served()
    call.say("상담원")
    assert call.transferring_to == "client:ann"
    assert call.session.survey["status"] == "asked_for_person" and call.session.outcome == ""


def test_no_survey_after_a_callback_promise_nor_after_an_error():
    call = Phone(flow_from(LINE))
    call.start()
    call.press("3")
    call.silence()  # the promise was heard
    assert "평가" not in call.text and call.session.survey == {}
    call = Phone(flow_from(LINE))
    call.start()
    session, actions = engine.rescue(call.flow, call.session, NoInput(call.now))  # a failure: to a person
    assert session.survey == {} and "평가" not in " ".join(getattr(a, "text", "") for a in actions)


def test_a_duplicate_request_in_the_survey_hears_the_question_again_and_changes_nothing():
    call = served()
    session = call.session
    again, actions = engine.resume(call.flow, session, call.now)
    assert again == session and "평가해 주세요" in " ".join(p.text for p in actions[-1].prompts)


def test_after_the_agent_hangs_up_the_survey_and_after_the_caller_hangs_up_none():
    call = Phone(flow_from(LINE))
    call.start()
    call.press("2")
    call.transfer("answered")
    call.transfer("completed")
    assert call.heard("평가해 주세요") and call.session.survey["after"] == "agent"
    call.hangup()
    assert call.session.phase is Phase.ENDED and call.session.survey["status"] == "hung_up"

    call = Phone(flow_from(LINE))
    call.start()
    call.press("2")
    call.transfer("answered")
    call.hangup()
    assert call.session.survey == {"after": "agent", "status": "caller_hung_up"}


answers = st.lists(st.one_of(st.sampled_from(["1", "5", "0", "7", "#", "12"]).map(lambda k: ("press", k)),
                             st.just(("silence", "")), st.sampled_from(["다섯", "상담원", "몰라요"]).map(
                                 lambda t: ("say", t))), max_size=6)


@settings(max_examples=60, deadline=None)
@given(answers)
def test_whatever_the_caller_does_the_survey_ends_or_reaches_a_person_within_three_answers(script):
    call = served()
    for i, (what, value) in enumerate(script):
        if call.session.phase is not Phase.SURVEY:
            break
        assert i < 3, "the survey asked more than three times"
        if what == "press":
            call.press(value)
        elif what == "say":
            call.say(value)
        else:
            call.silence()
        if call.recording:
            call.record()
    phase = call.session.phase
    assert phase in (Phase.SURVEY, Phase.ENDED, Phase.TRANSFER)
    rating = call.session.survey.get("csat")
    assert rating is None or 1 <= rating <= 5


def test_an_operator_key_that_is_also_a_rating_rates_the_call():
    call = Phone(flow_from(LINE.replace("operator: {to: desk,", "operator: {digit: \"5\", to: desk,")))
    call.start()
    call.press("1")
    call.press("5")
    assert call.session.survey["csat"] == 5 and call.hung_up and call.transferring_to is None

"""Whatever a caller does, the line never says a word in another language than the
call's: random callers on a Korean line and on an English one (keys, words, silence,
agents who answer or not, messages left or not) hear only their language, from the
flow's prompts or the line's own messages; the whisper is in the agents' language."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.engine.engine import rescue, step
from ivr.flows.loader import load_text
from ivr.model.actions import Hangup, Listen, Record, Speak, Transfer
from ivr.model.events import CallEnded, CallStarted, DigitsPressed, NoInput, RecordingDone, SpeechHeard, TransferResult

AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
HANGUL = re.compile(r"[가-힣]")
LATIN = re.compile(r"[A-Za-z]")

LINE = """
flow: {name}
language: {language}
voice: {voice}
hours: {{timezone: America/New_York, open: {{mon-fri: "08:00-20:00"}}}}
operator: {{digit: "0", phrases: [{person}], to: desk, after_hours: call_back}}
retry: {{no_input: 2, no_match: 2, then: desk}}
escalation: {{mode: offer, threshold: 0.5}}
start: main
nodes:
  main:
    menu:
      prompt: "{p_main}"
      options:
        - {{keys: "1", say: [{w_order}], go: order, label: {w_order}}}
        - {{keys: "2", say: [{w_visit}], go: visit, label: {w_visit}}}
        - {{keys: "3", say: [{w_more}], go: more, label: {w_more}}}
        - {{keys: "*", go: main, label: {w_main}}}
  order:
    collect:
      prompt: "{p_order}"
      slot: {{name: order_id, kind: digits, min_length: 4, max_length: 6}}
      confirm: true
      go: desk
  visit:
    collect:
      prompt: "{p_visit}"
      slot: {{name: day, kind: date}}
      confirm: true
      go: more
  more:
    collect:
      prompt: "{p_more}"
      slot: {{name: again, kind: yes_no}}
      go: desk
  desk:
    transfer: {{to: [client:ann, "+15005550010"]}}
  call_back:
    callback: true
"""

KOREAN = LINE.format(name="ko-line", language="ko-KR", voice="Polly.Seoyeon", person="상담원",
                     p_main="원하시는 업무를 말씀해 주세요.", w_order="주문 상태", w_visit="방문 예약", w_more="기타 문의",
                     w_main="처음으로", p_order="주문 번호를 눌러 주세요.", p_visit="방문하실 날짜를 말씀해 주세요.",
                     p_more="더 도와 드릴까요?")
ENGLISH = LINE.format(name="en-line", language="en-US", voice="Polly.Joanna", person="agent",
                      p_main="What can we do for you?", w_order="order status", w_visit="book a visit",
                      w_more="something else", w_main="start over", p_order="Key in your order number.",
                      p_visit="Which day would you like to come?", p_more="Anything else?")

KOREAN_WORDS = ["주문 상태", "방문 예약", "기타 문의", "예", "아니요", "내일", "3월 3일", "일 이 삼 사", "상담원", "음", ""]
ENGLISH_WORDS = ["order status", "book a visit", "yes", "no", "tomorrow", "march third", "one two three four",
                 "agent", "um", "this is ridiculous", ""]
KEYS = ["1", "2", "3", "*", "#", "0", "7", "1234", "12345#", "0304", "12"]


def loaded(text: str):
    flow, problems = load_text(text, "line.yaml")
    assert flow is not None, problems
    return flow


FLOWS = {"ko": loaded(KOREAN), "en": loaded(ENGLISH)}
FOREIGN = {"ko": LATIN, "en": HANGUL}


def heard(actions) -> list[str]:
    out = []
    for action in actions:
        if isinstance(action, Speak):
            out.append(action.text)
        elif isinstance(action, Listen):
            out.extend(p.text for p in action.prompts)
    return out


def play(flow, choices, words: list[str], minutes_later: int):
    """A random caller; yields every step's actions."""
    at = AT + timedelta(minutes=minutes_later)
    session, actions = step(flow, None, CallStarted(at, "CArandom", "+15551234567"))
    yield actions
    for choice in choices:
        at += timedelta(seconds=7)
        last = actions[-1] if actions else None
        if isinstance(last, Hangup) or session.phase == "ended":
            return
        kind, value = choice
        if isinstance(last, Listen):
            event = (DigitsPressed(at, KEYS[value % len(KEYS)]) if kind == 0
                     else SpeechHeard(at, words[value % len(words)], 0.9) if kind == 1 else NoInput(at))
        elif isinstance(last, Transfer):
            event = TransferResult(at, ["no-answer", "busy", "declined", "failed", "answered"][value % 5], last.target)
        elif isinstance(last, Record):
            event = RecordingDone(at, "https://api.twilio.com/rec/RE1" if value % 2 else "", 9.0)
        else:
            event = CallEnded(at, "completed")
        session, actions = step(flow, session, event)
        yield actions


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["ko", "en"]),
       st.lists(st.tuples(st.integers(0, 2), st.integers(0, 50)), max_size=25),
       st.sampled_from([0, 60 * 12]))  # open, and at night (closed: the call back)
def test_a_random_caller_hears_only_the_calls_language(language, choices, minutes_later):
    flow = FLOWS[language]
    words = KOREAN_WORDS if language == "ko" else ENGLISH_WORDS
    for actions in play(flow, choices, words, minutes_later):
        for text in heard(actions):
            assert not FOREIGN[language].search(text), text
        for action in actions:
            if isinstance(action, Speak | Listen):
                assert action.language == flow.language
            if isinstance(action, Transfer):  # the whisper: the agents speak the flow's language here
                assert not FOREIGN[language].search(re.sub(r'"[^"]*"', "", action.summary)), action.summary


def test_the_apology_of_a_failing_korean_call_is_korean():
    flow = FLOWS["ko"]
    session, _ = step(flow, None, CallStarted(AT, "CAbroken", "+15551234567"))
    session, actions = rescue(flow, session, DigitsPressed(AT, "1"))
    assert heard(actions)[0] == "죄송합니다. 시스템에 문제가 생겼습니다. 도와 드릴 상담원에게 연결해 드리겠습니다."
    assert isinstance(actions[-1], Transfer)


def test_a_korean_whisper_for_english_speaking_agents_frames_in_english_and_quotes_the_caller():
    flow = loaded(KOREAN.replace('transfer: {to: [client:ann, "+15005550010"]}',
                                 'transfer: {to: [client:ann, "+15005550010"], whisper_language: en-US}'))
    session, _ = step(flow, None, CallStarted(AT, "CAwhisper", "+15551234567"))
    session, _ = step(flow, session, SpeechHeard(AT, "기타 문의", 0.9))
    session, actions = step(flow, session, SpeechHeard(AT, "상담원 바꿔 주세요", 0.9))
    transfer = actions[-1]
    assert isinstance(transfer, Transfer)
    assert transfer.summary == ('Caller ending in 4 5 6 7, not verified. Wants 기타 문의. Caller asked for a person. '
                                'Said: "상담원 바꿔 주세요".')
    assert any(HANGUL.search(t) for t in heard(actions))  # the caller still hears Korean
    korean = loaded(KOREAN)
    session, _ = step(korean, None, CallStarted(AT, "CAwhisper", "+15551234567"))
    session, _ = step(korean, session, SpeechHeard(AT, "기타 문의", 0.9))
    session, actions = step(korean, session, SpeechHeard(AT, "상담원 바꿔 주세요", 0.9))
    assert actions[-1].summary == ('끝자리 4 5 6 7번 고객, 본인 확인 안 됨. 문의: 기타 문의. 상담원 연결을 요청했습니다. '
                                   '고객 말씀: "상담원 바꿔 주세요".')


def test_the_whisper_quotes_what_the_caller_said_of_their_problem_not_a_bare_yes():
    flow = FLOWS["ko"]
    session, _ = step(flow, None, CallStarted(AT, "CAquote", "+15551234567"))
    session, _ = step(flow, session, SpeechHeard(AT, "기타 문의", 0.9))
    session, actions = step(flow, session, SpeechHeard(AT, "예", 0.9))
    transfer = actions[-1]
    assert isinstance(transfer, Transfer)
    assert transfer.summary.endswith('고객 말씀: "기타 문의".'), transfer.summary


def test_an_agent_pool_is_whispered_in_its_language_and_the_other_targets_in_the_transfers():
    flow = loaded(KOREAN.replace('transfer: {to: [client:ann, "+15005550010"]}',
                                 'transfer: {to: [{agents: {languages: [ko]}}, client:ann], whisper_language: en-US}'))
    session, _ = step(flow, None, CallStarted(AT, "CApool", "+15551234567"))
    session, actions = step(flow, session, DigitsPressed(AT, "0"))
    korean_pool = actions[-1]
    assert isinstance(korean_pool, Transfer) and korean_pool.target.startswith("agents:")
    assert korean_pool.summary.startswith("끝자리 4 5 6 7번 고객") and not LATIN.search(korean_pool.summary)
    session, actions = step(flow, session, TransferResult(AT, "unavailable", korean_pool.target))  # nobody free
    ann = actions[-1]
    assert isinstance(ann, Transfer) and ann.target == "client:ann"
    assert ann.summary.startswith("Caller ending in 4 5 6 7, not verified.") and "Caller asked for a person" in ann.summary

"""Every word a caller (and an agent at the whisper) hears is in the call's language: the
flow's own words, or the line's messages in that language. Whole calls through the caller
emulator on the app built like production (signed webhooks, real SQLite, Twilio's REST API
mocked): key help, a silence, a collect with keypad help, hold, an agent who passes
("still trying"), a whisper, nobody free and a voicemail; in Korean and in English."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from handoff_line import agent_answers, call_updates_ok, caller, created_legs, leg_created, make_app, settled

HANGUL = re.compile(r"[가-힣]")
LATIN = re.compile(r"[A-Za-z]")

LINE = """
flow: {name}
numbers: ["+15005550006"]
language: {language}
voice: {voice}
operator: {{digit: "0", phrases: [{person}], to: desk}}
retry: {{no_input: 3, no_match: 3, then: desk}}
escalation: {{weights: {{no_input: 0.05, no_match: 0.05, revisit: 0.0}}}}
start: main
nodes:
  main:
    menu:
      prompt: "{welcome}"
      options:
        - {{keys: "1", say: [{order}], go: order, label: {order}}}
        - {{keys: "2", say: [{hours}], go: hours, label: {hours}}}
  hours:
    hangup: "{hours_text}"
  order:
    collect:
      prompt: "{ask_order}"
      slot: {{name: order_id, kind: digits, length: 4}}
      go: desk
  desk:
    transfer: {{to: [client:sam, client:ann], reason: "{reason}"{whisper}}}
"""

KOREAN = LINE.format(name="hangul-line", language="ko-KR", voice="Polly.Seoyeon", person="상담원",
                     welcome="애크미입니다. 원하시는 업무를 말씀하시거나 번호를 눌러 주세요.", order="주문 상태",
                     hours="영업 시간", hours_text="평일 오전 아홉 시부터 영업합니다.",
                     ask_order="주문 번호 네 자리를 눌러 주세요.", reason="주문 문의", whisper="")
ENGLISH = LINE.format(name="latin-line", language="en-US", voice="Polly.Joanna", person="agent",
                      welcome="Acme here. Say what you need or press a key.", order="order status",
                      hours="store hours", hours_text="We open at nine on weekdays.",
                      ask_order="Please key in your four digit order number.", reason="Order question", whisper="")


def said(responses, path: str = "") -> list[tuple[str, str, str]]:
    """(text, language, voice) of every <Say> the line answered with (on ``path`` only, if given)."""
    out = []
    for reply in responses:
        if path and path not in reply.url:
            continue
        if not isinstance(reply.body, str) or "<Response" not in reply.body:
            continue
        for say in ET.fromstring(reply.body).iter("Say"):
            out.append((say.text or "", say.get("language", ""), say.get("voice", "")))
    return out


def unquoted(text: str) -> str:
    """``text`` without the words quoted in it ("..."): a caller's words as they said them."""
    return re.sub(r'"[^"]*"', "", text)


def test_a_korean_call_hears_korean_only_from_the_first_word_to_the_voicemail(tmp_path, api):
    app = make_app(tmp_path, warm=False, flow=KOREAN)
    call = caller(app)
    call.dial()
    assert call.heard("애크미입니다")
    call.silence()
    assert call.heard("아무 말씀도 듣지 못했습니다")  # the apology for a silence
    assert call.heard("주문 상태는 1번, 영업 시간은 2번, 또는 상담원 연결은 0번을 눌러 주세요")  # key help
    call.press("7")
    assert call.heard("주문 상태는 1번") and not call.heard("아무 말씀도")
    call.press("1")
    assert call.heard("주문 번호 네 자리")
    call.press("12#")
    assert call.heard("잘 알아듣지 못했습니다")
    call.silence()
    assert call.heard("전화기 버튼으로 4자리 숫자를 누르신 다음 우물 정자를 눌러 주세요")  # keypad help
    call.press("1234")
    assert call.heard("상담원에게 연결해 드리겠습니다")
    sam = call.agent_leg(0)
    assert sam.heard("끝자리") and sam.heard("문의: 주문 상태") and sam.heard("전화를 받으시려면 1번")
    sam.press("2")  # sam passes: the caller hears that the line keeps trying, and ann rings
    assert sam.heard("다음 상담원에게 넘깁니다")
    call.dial_result("completed")  # sam's leg ended without taking the call
    assert call.heard("계속 상담원을 연결하고 있습니다")
    call.dial_result("no-answer")  # nobody else: a message instead
    assert call.heard("지금은 전화를 받을 수 있는 상담원이 없습니다") and call.heard("삐 소리가 나면")
    call.record(duration=8)
    assert call.heard("메시지가 녹음되었습니다") and call.state == "ended"

    everything = said(call.responses) + said(sam.responses)
    assert everything, "the line said nothing"
    english = [text for text, _, _ in everything if LATIN.search(unquoted(text))]
    assert not english, english  # no English word reached this caller or the Korean agent
    assert {language for _, language, _ in everything} == {"ko-KR"}
    assert {voice for _, _, voice in said(call.responses)} == {"Polly.Seoyeon"}


def test_an_english_call_hears_english_only_and_the_same_wording_as_ever(tmp_path, api):
    app = make_app(tmp_path, warm=False, flow=ENGLISH)
    call = caller(app)
    call.dial()
    call.silence()
    assert call.heard("Sorry, I didn't hear anything.")
    assert call.heard("You can press 1 for order status, press 2 for store hours, or press 0 to speak to a person.")
    call.press("7")
    call.press("1")
    call.press("12#")
    assert call.heard("Sorry, I didn't get that.")
    call.silence()
    assert call.heard("Please use your keypad to enter the 4 digits, then press the pound key.")
    call.press("1234")
    assert call.heard("Please hold while I connect you")
    sam = call.agent_leg(0)
    assert sam.heard("Caller ending in") and sam.heard("Wants order status.") and sam.heard("Order question")
    sam.press("2")
    assert sam.heard("Passing the call on.")
    call.dial_result("completed")
    assert call.heard("Still trying to reach someone. Thank you for holding.")
    call.dial_result("busy")
    assert call.heard("nobody is free to take your call") and call.heard("after the tone")
    call.record(duration=8)
    assert call.heard("Your message has been recorded") and call.state == "ended"

    everything = said(call.responses) + said(sam.responses)
    korean = [text for text, _, _ in everything if HANGUL.search(text)]
    assert not korean, korean
    assert {language for _, language, _ in everything} == {"en-US"}


def test_on_hold_in_a_conference_a_korean_caller_hears_korean_and_the_agent_a_korean_whisper(tmp_path, api):
    app = make_app(tmp_path, warm=True, flow=KOREAN)
    leg_created(api, ["CAsam", "CAann"])
    call_updates_ok(api)
    call = caller(app)
    call.dial()
    call.say("주문 상태")
    call.press("1234")
    settled(app)
    hold = said(call.responses, "/twilio/hold")
    assert hold and all("기다려 주셔서 감사합니다" in text and language == "ko-KR" for text, language, _ in hold)
    sam = agent_answers(app, created_legs(api)[0])
    whisper = said(sam.responses)
    assert whisper and {language for _, language, _ in whisper} == {"ko-KR"}
    assert not [text for text, _, _ in whisper if LATIN.search(unquoted(text))], whisper
    assert sam.heard("문의: 주문 상태") and sam.heard("고객 말씀")  # what they chose, their words quoted


@pytest.mark.parametrize("language, voice", [("en-US", ""), ("en-GB", "")])
def test_a_korean_caller_is_whispered_in_the_agents_language_with_their_words_quoted(tmp_path, api, language, voice):
    flow = KOREAN.replace('reason: "주문 문의"}', f'reason: "주문 문의", whisper_language: {language}}}')
    app = make_app(tmp_path, warm=True, flow=flow)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = caller(app)
    call.dial()
    call.say("주문 상태 알려 주세요")
    call.press("1234")
    settled(app)
    assert call.heard("상담원에게 연결해 드리겠습니다")  # the caller still hears Korean
    sam = agent_answers(app, created_legs(api)[0])
    whisper = said(sam.responses)
    assert {lang for _, lang, _ in whisper} == {language}
    assert {name for _, _, name in whisper} == {voice}  # not the flow's Korean voice
    heard = " ".join(text for text, _, _ in whisper)
    assert "Caller ending in" in heard and "Wants 주문 상태." in heard and "Press 1 to take the call" in heard
    assert 'Said: "주문 상태 알려 주세요"' in heard  # the caller's own words, as said
    assert not HANGUL.search(unquoted(heard).replace("주문 상태", "").replace("주문 문의", ""))
    sam.press("2")
    assert sam.heard("Passing the call on.")


def test_ops_change_a_message_in_the_flows_folder_and_the_next_call_hears_it(tmp_path):
    import time

    from handoff_line import PUBLIC, TOKEN

    from ivr import create_app
    from ivr.testing import Caller, FlaskTransport
    from ivr.web.services import services

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hangul.yaml").write_text(KOREAN, encoding="utf-8")
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_FLOWS_DIR": str(flows),
                      "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/calls.sqlite3", "IVR_STREAM_SPEECH": "false",
                      "IVR_WATCH_FLOWS": "1", "IVR_WATCH_INTERVAL": "0.1", "IVR_SECRET_KEY": "k"})

    def silence_says(text: str) -> bool:
        call = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC)
        call.dial()
        call.silence()
        return call.heard(text)

    def eventually(check) -> bool:
        for _ in range(100):
            if check():
                return True
            time.sleep(0.1)
        return False

    try:
        assert silence_says("아무 말씀도 듣지 못했습니다")
        (flows / "messages").mkdir()
        (flows / "messages" / "ko.yaml").write_text('sorry_no_input: "죄송합니다. 말씀이 들리지 않았습니다."\n',
                                                    encoding="utf-8")
        assert eventually(lambda: silence_says("말씀이 들리지 않았습니다"))
        (flows / "messages" / "ko.yaml").write_text('sorry_no_imput: "잘못된 키"\n', encoding="utf-8")
        time.sleep(1.0)  # the watcher reloads; the broken file is refused and the last good words keep serving
        assert silence_says("말씀이 들리지 않았습니다")
        refused = [p.message for p in services(app).library.last.errors]
        assert refused == ["'sorry_no_imput' is not a message of the line"]
    finally:
        services(app).reloader.stop()


def test_a_korean_caller_waiting_in_a_queue_hears_their_place_in_korean(tmp_path, api):
    flow = KOREAN.replace('transfer: {to: [client:sam, client:ann], reason: "주문 문의"}',
                          'transfer: {to: [queue:support], reason: "주문 문의"}')
    app = make_app(tmp_path, warm=False, flow=flow)
    call = caller(app)
    call.dial()
    call.press("1")
    call.press("1234")
    waiting = said(call.responses, "/twilio/queue-wait")
    assert waiting == [("고객님의 대기 순서는 1번째입니다. 기다려 주셔서 감사합니다. 곧 상담원과 연결해 드리겠습니다.",
                        "ko-KR", "Polly.Seoyeon")]

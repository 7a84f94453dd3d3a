"""The demo line's survey in whole calls through the webhooks: in English, and in Korean
after the caller pressed 9 (the Korean line's own question, thanks and goodbye)."""
from __future__ import annotations

from web_support import Line


def test_a_korean_caller_rates_the_call_in_korean(line: Line):
    call = line.call()
    call.press("9")
    call.press("2")
    assert call.heard("영업합니다")
    call.press("2")  # no, nothing else
    assert call.heard("이번 상담을 평가해 주세요") and not call.heard("안녕히 계세요")
    call.press("5")
    assert call.heard("삐 소리가 나면")
    call.record(duration=4)
    assert call.heard("소중한 의견 감사합니다") and call.heard("안녕히 계세요") and call.state == "ended"
    session = line.session(call)
    assert session["survey"]["csat"] == 5 and session["survey"]["after"] == "self_service"
    assert session["flow"] == "acme-support-ko" and session["outcome"] == "contained"


def test_an_english_caller_who_presses_a_wrong_key_twice_is_thanked_unrated(line: Line):
    call = line.call()
    call.press("3")
    call.press("2")
    assert call.heard("please rate this call")
    call.press("8")
    assert call.heard("that's not a rating") and call.heard("please rate this call")
    call.press("*")
    assert call.heard("Thank you for your feedback") and call.heard("Goodbye") and call.state == "ended"
    session = line.session(call)
    assert session["survey"]["status"] == "not_rated" and "csat" not in session["survey"]

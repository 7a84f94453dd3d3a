"""A whole call that asks for a day: said the way callers say it, keyed as MMDD or
MMDDYYYY, placed by the call's own clock in the line's time zone, read back as words."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from engine_support import T0, Phone, flow_from

DATE_FLOW = """
flow: visit-line
numbers: ["+15005550006"]
language: {language}
{hours}
operator: {{digit: "0", phrases: [agent, a person], to: desk}}
retry: {{no_input: 2, no_match: 2, then: desk}}
escalation: {{threshold: 0.7, weights: {{no_input: 0, no_match: 0, revisit: 0, repeated_intent: 0}}}}
start: visit
nodes:
  visit:
    collect:
      prompt: "Which day would you like to visit?"
      slot: {{name: visit_day, kind: date}}
      confirm: true
      go: booked
  booked:
    hangup: "Booked for {{visit_day}}. Goodbye."
  desk:
    transfer: {{to: ["client:alice"], reason: "Caller asked for a person"}}
"""
NEW_YORK = 'hours: {timezone: America/New_York, open: {mon-sun: "00:00-23:59"}}'


def visit(language: str = "en-US", hours: str = "", at: datetime = T0) -> Phone:
    call = Phone(flow_from(DATE_FLOW.format(language=language, hours=hours)), at=at)
    call.start()
    assert call.listening_at == "visit"
    return call


# The call is on Tuesday 24 November 2026 (T0).
@pytest.mark.parametrize("how, said, read_back, stored", [
    ("say", "March the third", "I heard March third, twenty twenty seven.", "2027-03-03"),
    ("say", "march twenty third", "I heard March twenty third, twenty twenty seven.", "2027-03-23"),
    ("say", "the twenty third of march", "I heard March twenty third, twenty twenty seven.", "2027-03-23"),
    ("say", "tomorrow", "I heard November twenty fifth.", "2026-11-25"),
    ("say", "next tuesday", "I heard December first.", "2026-12-01"),
    ("say", "this friday", "I heard November twenty seventh.", "2026-11-27"),
    ("say", "12/15", "I heard December fifteenth.", "2026-12-15"),
    ("press", "1215#", "I heard December fifteenth.", "2026-12-15"),
    ("press", "03142027#", "I heard March fourteenth, twenty twenty seven.", "2027-03-14"),
])
def test_the_day_is_read_back_in_words_and_kept(how, said, read_back, stored):
    call = visit()
    getattr(call, how)(said)
    assert call.heard(read_back)
    assert "2027-03" not in call.text and "2026-1" not in call.text
    call.say("yes")
    assert call.session.slots["visit_day"] == stored
    assert call.hung_up


def test_no_read_back_says_iso():
    call = visit()
    call.say("March the third")
    assert not call.heard("2027-03-03")


def test_tomorrow_is_by_the_lines_clock_not_utc():
    late_evening_in_new_york = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 22:30 on the 24th there
    call = visit(hours=NEW_YORK, at=late_evening_in_new_york)
    call.say("tomorrow")
    assert call.heard("I heard November twenty fifth.")
    utc_line = visit(at=late_evening_in_new_york)
    utc_line.say("tomorrow")
    assert utc_line.heard("I heard November twenty sixth.")


def test_korean_caller_hears_the_day_in_korean():
    call = visit(language="ko-KR")
    call.say("다음 주 화요일")
    assert call.heard("12월 1일")
    call.say("네")
    assert call.session.slots["visit_day"] == "2026-12-01"


def test_korean_month_and_day():
    call = visit(language="ko-KR")
    call.say("삼월 삼일")
    assert call.heard("2027년 3월 3일")


def test_a_day_that_does_not_exist_is_asked_again():
    call = visit()
    call.press("0230#")
    assert call.listening_at == "visit"
    assert not call.heard("I heard")

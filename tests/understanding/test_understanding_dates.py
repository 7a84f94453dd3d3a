"""Dates as callers say and key them, in English and Korean, against a fixed day.

The caller's day is Tuesday 24 November 2026 throughout (``TODAY``); a date said
without a year is the next one on or after it.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ivr.understanding.dates import call_day, date_in, say_date
from ivr.understanding.text import date_in as text_date_in

TODAY = date(2026, 11, 24)  # a Tuesday

ENGLISH = [
    ("March the third", date(2027, 3, 3)),
    ("march third", date(2027, 3, 3)),
    ("march twenty third", date(2027, 3, 23)),
    ("twenty third of march", date(2027, 3, 23)),
    ("it was the twenty first of december", date(2026, 12, 21)),
    ("the 3rd of March", date(2027, 3, 3)),
    ("march 3rd", date(2027, 3, 3)),
    ("March 3", date(2027, 3, 3)),
    ("december thirty first", date(2026, 12, 31)),
    ("November twenty fourth", date(2026, 11, 24)),  # today is the next occurrence
    ("November twenty third", date(2027, 11, 23)),  # yesterday's date is next year's
    ("march fourteenth twenty twenty six", date(2026, 3, 14)),
    ("march fourteenth two thousand twenty six", date(2026, 3, 14)),
    ("november 2nd 2026", date(2026, 11, 2)),
    ("Jan 5th", date(2027, 1, 5)),
    ("today", date(2026, 11, 24)),
    ("tomorrow", date(2026, 11, 25)),
    ("tomorrow please", date(2026, 11, 25)),
    ("the day after tomorrow", date(2026, 11, 26)),
    ("in three days", date(2026, 11, 27)),
    ("in a week", date(2026, 12, 1)),
    ("this friday", date(2026, 11, 27)),
    ("on friday", date(2026, 11, 27)),
    ("next tuesday", date(2026, 12, 1)),
    ("next friday", date(2026, 12, 4)),  # next week's Friday; this week's is "this friday"
    ("monday", date(2026, 11, 30)),
    ("12/15", date(2026, 12, 15)),
    ("3/2", date(2027, 3, 2)),
    ("12/15/2026", date(2026, 12, 15)),
    ("2026-11-02", date(2026, 11, 2)),
    ("1215", date(2026, 12, 15)),  # keys: MMDD
    ("0303", date(2027, 3, 3)),
    ("12152026", date(2026, 12, 15)),  # keys: MMDDYYYY
    ("03142026#", date(2026, 3, 14)),
    ("0229", date(2028, 2, 29)),  # the next February 29
]

KOREAN = [
    ("3월 3일", date(2027, 3, 3)),
    ("삼월 삼일", date(2027, 3, 3)),
    ("12월 15일", date(2026, 12, 15)),
    ("십이월 이십오일", date(2026, 12, 25)),
    ("시월 구일", date(2027, 10, 9)),
    ("유월 십일", date(2027, 6, 10)),
    ("2027년 1월 5일", date(2027, 1, 5)),
    ("이천이십칠년 일월 오일", date(2027, 1, 5)),
    ("오늘", date(2026, 11, 24)),
    ("내일", date(2026, 11, 25)),
    ("내일이요", date(2026, 11, 25)),
    ("모레", date(2026, 11, 26)),
    ("이번 주 금요일", date(2026, 11, 27)),
    ("다음 주 화요일", date(2026, 12, 1)),
    ("다음주 금요일", date(2026, 12, 4)),
    ("금요일", date(2026, 11, 27)),
    ("1215", date(2026, 12, 15)),
]

NOT_DATES = ["last week sometime", "my order number", "", "february thirtieth", "0230", "1315", "13152026",
             "02302026", "1234567", "march", "사월", "모르겠어요"]


@pytest.mark.parametrize("said, day", ENGLISH)
def test_english(said, day):
    assert date_in(said, TODAY) == day


@pytest.mark.parametrize("said, day", KOREAN)
def test_korean(said, day):
    assert date_in(said, TODAY, "ko") == day


@pytest.mark.parametrize("said", NOT_DATES)
def test_not_a_date(said):
    assert date_in(said, TODAY) is None
    assert date_in(said, TODAY, "ko") is None


def test_without_a_day_only_full_dates_are_read():
    assert date_in("march fourteenth twenty twenty six") == date(2026, 3, 14)
    assert date_in("12152026") == date(2026, 12, 15)
    assert date_in("tomorrow") is None
    assert date_in("march third") is None


def test_the_older_entry_point_reads_the_same():
    assert text_date_in("twenty third of march", TODAY) == date(2027, 3, 23)


def test_the_callers_day_is_the_lines_day():
    late_in_new_york = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 22:30 on the 24th there
    assert call_day(late_in_new_york, "America/New_York") == date(2026, 11, 24)
    assert call_day(late_in_new_york, "UTC") == date(2026, 11, 25)
    assert call_day(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), "Asia/Seoul") == date(2026, 11, 25)


@pytest.mark.parametrize("day, english, korean", [
    (date(2027, 3, 3), "March third, twenty twenty seven", "2027년 3월 3일"),
    (date(2026, 12, 25), "December twenty fifth", "12월 25일"),
    (date(2026, 11, 30), "November thirtieth", "11월 30일"),
    (date(2026, 11, 20), "November twentieth", "11월 20일"),
    (date(2026, 12, 1), "December first", "12월 1일"),
    (date(2030, 1, 31), "January thirty first, twenty thirty", "2030년 1월 31일"),
    (date(2105, 5, 2), "May second, twenty one oh five", "2105년 5월 2일"),
])
def test_read_back_in_words(day, english, korean):
    assert say_date(day, "en-US", TODAY) == english
    assert say_date(day, "ko-KR", TODAY) == korean


def test_read_back_without_a_day_has_no_year():
    assert say_date(date(2027, 3, 3)) == "March third"

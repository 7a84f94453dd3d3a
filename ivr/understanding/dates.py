"""Dates the way callers say or key them, in English and Korean, and read back as words.

``date_in("march the third", today)`` -> the next March 3 on or after ``today``;
"twenty third of march", "tomorrow", "next tuesday", "this friday", "12/15", keys
``1215`` (MMDD) and ``12152026`` (MMDDYYYY); "3월 3일", "삼월 삼일", "내일", "다음 주 화요일".
``today`` is the call's own day (the event's time in the flow's time zone: see
``call_day``), never the wall clock. ``say_date`` speaks a date back: "March third",
"3월 3일".

Rules of this file: plain rules, no library. dateparser 1.2 was measured for this
(English and Korean, relative base fixed): it imports in about 60 ms, its first parse
costs about 75 ms and later ones about 0.4 ms, but it reads none of "March the third",
"march twenty third", "twenty third of march" or "다음 주 화요일" (it returns nothing),
which are how callers say dates; the rules below read them all in well under 0.1 ms.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["call_day", "date_in", "say_date", "ordinal_word", "year_words"]

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
_MONTH = {m: i + 1 for i, m in enumerate(MONTHS)}
_MONTH.update({m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = {d: i for i, d in enumerate(_WEEKDAYS)}
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                  "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                  "eighteenth", "nineteenth")
_ORDINAL = {w: i + 1 for i, w in enumerate(_ORDINAL_WORDS)} | {"twentieth": 20, "thirtieth": 30}
_ONES = {w: i for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                     "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                     "seventeen", "eighteen", "nineteen"))}
_TENS = {"twenty": 20, "thirty": 30}
_YEAR_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
              "ninety": 90}
_NOISE = frozenset({"the", "of", "on", "a", "um", "uh", "please", "it's", "its", "it", "is", "was", "for", "at", "day",
                    "date", "and"})

# Korean: Sino-Korean numbers, months, weekdays, relative days.
_KO_DIGIT = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6, "칠": 7, "팔": 8, "구": 9}
_KO_WEEKDAY = {"월": 0, "화": 1, "수": 2, "목": 3, "금": 4, "토": 5, "일": 6}
_KO_RELATIVE = {"오늘": 0, "내일": 1, "모레": 2, "글피": 3, "어제": -1}
_EN_RELATIVE = {"today": 0, "tomorrow": 1, "yesterday": -1}


def call_day(at: datetime, timezone: str = "UTC") -> date:
    """The caller's today: the moment of the event, in the line's time zone."""
    return at.astimezone(ZoneInfo(timezone or "UTC")).date()


def date_in(text: str, today: date | None = None, language: str = "en") -> date | None:
    """The date in what the caller said or keyed, or None.

    Without a year the date is the next one on or after ``today`` ("march third" said in
    November is next March). Relative days ("tomorrow", "next tuesday") and dates
    without a year need ``today``; without it only full dates are read.
    """
    raw = text.strip().rstrip("#").strip()
    if not raw:
        return None
    numeric, found = _numeric(raw, today)
    if numeric:
        return found
    if re.search(r"[\uac00-\ud7a3]", raw) or language.startswith("ko"):
        return _korean(raw, today)
    return _english(raw, today)


def say_date(day: date, language: str = "en", today: date | None = None) -> str:
    """A date as the caller hears it: "March third" ("March third, twenty twenty seven"
    when it is not ``today``'s year), "3월 3일" in Korean."""
    other_year = today is not None and day.year != today.year
    if language.startswith("ko"):
        return (f"{day.year}년 " if other_year else "") + f"{day.month}월 {day.day}일"
    words = f"{MONTHS[day.month - 1].capitalize()} {_ordinal_word(day.day)}"
    return f"{words}, {_year_words(day.year)}" if other_year else words


def _numeric(raw: str, today: date | None) -> tuple[bool, date | None]:
    """Keys and written forms: YYYY-MM-DD, MMDDYYYY, MMDD, 12/15, 12/15/2026.
    (is one of these forms, the date if it is a real one)."""
    compact = raw.replace(" ", "")
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", compact):
            return True, date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{2})(\d{2})(\d{4})", compact):
            return True, date(int(m[3]), int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})", compact):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return True, date(year, int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{2})(\d{2})|(\d{1,2})[/.-](\d{1,2})", compact):
            month, day = (int(m[1]), int(m[2])) if m[1] else (int(m[3]), int(m[4]))
            return True, _next_occurrence(month, day, today)
    except ValueError:
        return True, None
    return False, None


def _next_occurrence(month: int, day: int, today: date | None) -> date | None:
    if today is None or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    for year in (today.year, today.year + 1, today.year + 2, today.year + 3, today.year + 4):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue  # February 29 waits for a leap year
        if candidate >= today:
            return candidate
    return None


def _weekday(target: int, today: date, which: str) -> date:
    """``which``: "this" (this week's, or the next one when it has passed), "next" (next
    week's), "" (the next one after today)."""
    if which == "next":
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=target)
    ahead = (target - today.weekday()) % 7
    if which == "this":
        return today + timedelta(days=ahead)
    return today + timedelta(days=ahead or 7)


def _english(raw: str, today: date | None) -> date | None:
    every = re.sub(r"[^\w\s'/]+", " ", raw.lower()).replace("-", " ").split()
    phrase = " ".join(every)
    words = [w for w in every if w not in _NOISE]
    if not words:
        return None
    if today is not None:
        if "day after tomorrow" in phrase:
            return today + timedelta(days=2)
        for word, shift in _EN_RELATIVE.items():
            if word in words and not any(w in _MONTH for w in words):
                return today + timedelta(days=shift)
        if m := re.search(r"\bin (\w+) (day|days|week|weeks)\b", phrase):
            n = _cardinal([m[1]]) if m[1] not in ("a", "one") else 1
            if n:
                return today + timedelta(days=n * (7 if m[2].startswith("week") else 1))
        for i, w in enumerate(words):
            name = w[:-1] if w.endswith("s") and w[:-1] in _WEEKDAY else w
            if name in _WEEKDAY:
                prior = words[i - 1] if i else ""
                which = "next" if prior in ("next", "following") else "this" if prior in ("this", "coming") else ""
                return _weekday(_WEEKDAY[name], today, which)
    month_at = next((i for i, w in enumerate(words) if w in _MONTH), None)
    if month_at is None:
        return None
    month = _MONTH[words[month_at]]
    after, before = words[month_at + 1:], words[:month_at]
    day, used = _day(after)
    rest = after[used:]
    if day is None:
        for k in (2, 1):  # "the twenty third of march"
            day, used = _day(before[-k:])
            if used == k:
                break
        rest = after
    if day is None:
        return None
    year = _year(rest)
    if year is None:
        return _next_occurrence(month, day, today)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day(words: list[str]) -> tuple[int | None, int]:
    """The day at the start of ``words`` and how many words it took."""
    if not words:
        return None, 0
    first = words[0]
    if m := re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", first):
        return (int(m[1]) if 1 <= int(m[1]) <= 31 else None), 1
    if first in _TENS and len(words) > 1:
        second = words[1]
        unit = _ORDINAL.get(second, _ONES.get(second))
        if unit is not None and 1 <= unit <= 9 and _TENS[first] + unit <= 31:
            return _TENS[first] + unit, 2
    if first in _ORDINAL:
        return _ORDINAL[first], 1
    if first in _TENS:
        return _TENS[first], 1
    if first in _ONES and 1 <= _ONES[first] <= 19:
        return _ONES[first], 1
    return None, 0


def _cardinal(words: list[str]) -> int | None:
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    day, used = _day(words)
    return day if used else None


def _year(words: list[str]) -> int | None:
    """"2026", "twenty twenty six", "two thousand twenty six", "twenty six"."""
    words = [w for w in words if w not in ("and", "year")]
    if not words:
        return None
    if len(words) == 1 and re.fullmatch(r"\d{4}", words[0]):
        return int(words[0])
    if words[:2] == ["two", "thousand"]:
        tail = _small(words[2:])
        return 2000 + (tail or 0) if tail is not None or len(words) == 2 else None
    if words[0] in _YEAR_TENS and len(words) > 1:
        tail = _small(words[1:])
        if tail is not None and _YEAR_TENS[words[0]] in (19, 20):
            return _YEAR_TENS[words[0]] * 100 + tail
        if words[0] == "twenty" and tail is not None:
            return 2000 + tail
    if words[0] in ("nineteen",) and len(words) > 1:
        tail = _small(words[1:])
        return 1900 + tail if tail is not None else None
    return None


def _small(words: list[str]) -> int | None:
    """0..99 in words: "twenty six" -> 26, "oh five" -> 5."""
    if not words:
        return None
    if len(words) == 1 and words[0].isdigit() and len(words[0]) <= 2:
        return int(words[0])
    if words[0] in ("oh", "o") and len(words) == 2 and words[1] in _ONES:
        return _ONES[words[1]]
    if words[0] in _YEAR_TENS:
        unit = _ONES.get(words[1], 0) if len(words) > 1 else 0
        return _YEAR_TENS[words[0]] + unit if unit < 10 and len(words) <= 2 else None
    if len(words) == 1 and words[0] in _ONES:
        return _ONES[words[0]]
    return None


def _ko_number(word: str) -> int | None:
    """ "3", "삼", "십이", "이십삼", "삼십일" -> the number; None otherwise."""
    if word.isdigit():
        return int(word)
    if not word or any(c not in _KO_DIGIT and c != "십" for c in word):
        return None
    if "십" not in word:
        return _KO_DIGIT[word] if len(word) == 1 else None
    tens, _, ones = word.partition("십")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_KO_DIGIT[tens] if tens else 1) * 10 + (_KO_DIGIT[ones] if ones else 0)


_KO_MONTH_NAMES = {"유월": 6, "시월": 10}


def _korean(raw: str, today: date | None) -> date | None:
    text = re.sub(r"[^\w\s]+", " ", raw)
    squeezed = text.replace(" ", "")
    if today is not None:
        for word, shift in _KO_RELATIVE.items():
            if word in squeezed and "월" not in squeezed.replace("월요일", ""):
                return today + timedelta(days=shift)
        if m := re.search(r"([월화수목금토일])요일", squeezed):
            which = "next" if re.search(r"다음주|담주|다음", squeezed) else "this" if re.search(r"이번주|이번", squeezed) else ""
            return _weekday(_KO_WEEKDAY[m[1]], today, which)
    year = None
    if m := re.search(r"(\d{4}|[이천백십일이삼사오육칠팔구]+)년", squeezed):
        year = int(m[1]) if m[1].isdigit() else _ko_year(m[1])
    month = None
    for name, value in _KO_MONTH_NAMES.items():
        if name in squeezed:
            month = value
    m = re.search(r"(\d{1,2}|[일이삼사오육칠팔구십]+)월", squeezed)
    if month is None and m:
        month = _ko_number(m[1])
    d = re.search(r"월(\d{1,2}|[일이삼사오육칠팔구십]+)일", squeezed)
    day = _ko_number(d[1]) if d else None
    if not month or not day or not 1 <= month <= 12:
        return None
    if year is None:
        return _next_occurrence(month, day, today)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _ko_year(word: str) -> int | None:
    """"이천이십육" -> 2026."""
    if not word.startswith("이천"):
        return None
    rest = word[2:]
    return 2000 + (_ko_number(rest) or 0) if rest == "" or _ko_number(rest) is not None else None


def _ordinal_word(n: int) -> str:
    if n in (20, 30):
        return "twentieth" if n == 20 else "thirtieth"
    if n < 20:
        return _ORDINAL_WORDS[n - 1]
    return ("twenty " if n < 30 else "thirty ") + _ORDINAL_WORDS[n % 10 - 1]


def _year_words(year: int) -> str:
    names = {v: k for k, v in _ONES.items()} | {v: k for k, v in _YEAR_TENS.items()}

    def pair(n: int) -> str:
        if n < 20:
            return names[n]
        return names[n - n % 10] + (f" {names[n % 10]}" if n % 10 else "")
    high, low = divmod(year, 100)
    if low == 0:
        return f"{pair(high)} hundred" if high % 10 else f"{names[high // 10]} thousand"
    return f"{pair(high)} {'oh ' + names[low] if low < 10 else pair(low)}"


# The English words of a day's ordinal and of a year, for read-backs made from the line's
# messages ("{month} {ordinal}, {year_words}").
ordinal_word = _ordinal_word
year_words = _year_words

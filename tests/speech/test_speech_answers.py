"""``answers.judge`` and ``endpoint.QuietMeter`` on their own: no model, no audio files."""
from __future__ import annotations

import math
import random
import struct

import pytest

from ivr.speech.answers import Answer, NotAnAnswer, PersonWanted, judge
from ivr.speech.endpoint import QuietMeter
from ivr.speech.recognizer import Word

MENU = ["주문 상태", "영업 시간", "잔액", "잔고"]
YES_NO = ["예", "네", "아니요"]
DIGITS = ["일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "영", "공"]
OPERATOR = ["상담원"]


def said(*words: str | tuple[str, float]) -> list[Word]:
    """Words said one after another, 0.3 s per syllable, confidence 1.0 unless given."""
    out, t = [], 0.0
    for w in words:
        text, conf = (w, 1.0) if isinstance(w, str) else w
        length = 0.3 * len(text)
        out.append(Word(text, conf, t, t + length))
        t += length + 0.05
    return out


def test_one_whole_phrase_is_an_answer():
    assert judge(said("주문", "상태"), MENU, OPERATOR) == Answer("주문 상태")
    assert judge(said("아니요"), YES_NO, OPERATOR) == Answer("아니요")


def test_unknown_words_around_an_answer_are_dropped():
    assert judge(said("<UNK>", "아니요", "<UNK>"), YES_NO, OPERATOR) == Answer("아니요")


def test_only_unknown_words_is_not_an_answer_and_not_silence():
    verdict = judge(said("<UNK>", "[unk]"), MENU, OPERATOR)
    assert isinstance(verdict, NotAnAnswer) and verdict.heard == ""


def test_the_operator_phrase_ending_the_utterance_wants_a_person():
    assert judge(said("시간", "잔고", "영업", "상담원"), MENU, OPERATOR) == PersonWanted("상담원")
    assert judge(said("상담원"), YES_NO, OPERATOR) == PersonWanted("상담원")


def test_the_operator_phrase_in_the_middle_or_unsure_is_not_a_request():
    assert isinstance(judge(said("상담원", "네", "아니요"), YES_NO, OPERATOR), NotAnAnswer)
    assert isinstance(judge(said("잔액", ("상담원", 0.3)), MENU, OPERATOR), NotAnAnswer)


def test_a_word_under_the_confidence_floor_spoils_the_answer():
    assert isinstance(judge(said("이", ("삼", 0.3), "오"), DIGITS, OPERATOR, digits=True), NotAnAnswer)
    assert judge(said("이", ("삼", 0.3), "오"), DIGITS, OPERATOR, digits=True, floor=0.2) == Answer("이 삼 오")


def test_grammar_words_that_are_not_whole_phrases_are_not_an_answer():
    assert isinstance(judge(said("주문", "시간"), MENU, OPERATOR), NotAnAnswer)
    assert isinstance(judge(said("영업", "영업"), MENU, OPERATOR), NotAnAnswer)


def test_two_answers_at_once_are_not_an_answer_but_digits_may_run_on():
    assert isinstance(judge(said("예", "아니요"), YES_NO, OPERATOR), NotAnAnswer)
    assert judge(said("공", "오", "이", "삼"), DIGITS, OPERATOR, digits=True) == Answer("공 오 이 삼")


@pytest.mark.parametrize("seconds", [0.06, 0.9])
def test_a_word_too_short_or_too_drawn_out_for_a_syllable_is_not_an_answer(seconds):
    words = [Word("오", 1.0, 0.0, 0.3), Word("영", 1.0, 0.35, 0.35 + seconds)]
    assert isinstance(judge(words, DIGITS, OPERATOR, digits=True), NotAnAnswer)


def test_words_in_other_scripts_are_not_timed():
    words = [Word("billing", 1.0, 0.0, 0.05)]
    assert judge(words, ["billing", "order status"], ["agent"]) == Answer("billing")


# -- QuietMeter --------------------------------------------------------------------------------


def tone(seconds: float, amplitude: float, rate: int = 16000) -> bytes:
    n = int(rate * seconds)
    return struct.pack(f"<{n}h", *(round(amplitude * math.sin(2 * math.pi * 220 * i / rate)) for i in range(n)))


def noise(seconds: float, amplitude: float, rate: int = 16000, seed: int = 7) -> bytes:
    r = random.Random(seed)
    n = int(rate * seconds)
    return struct.pack(f"<{n}h", *(max(-32768, min(32767, round(r.gauss(0, amplitude)))) for _ in range(n)))


def mix(a: bytes, b: bytes) -> bytes:
    n = min(len(a), len(b)) // 2
    xs, ys = struct.unpack(f"<{n}h", a[: 2 * n]), struct.unpack(f"<{n}h", b[: 2 * n])
    return struct.pack(f"<{n}h", *(max(-32768, min(32767, x + y)) for x, y in zip(xs, ys)))


def test_quiet_counts_from_the_end_of_the_words_on_a_clean_line():
    meter = QuietMeter(16000)
    meter.feed(bytes(16000))  # 0.5 s of digital silence
    meter.feed(tone(0.6, 4000))
    assert meter.quiet_ms == 0
    meter.feed(bytes(2 * 16000 * 3 // 10))  # 0.3 s
    assert meter.quiet_ms == 300


def test_on_a_noisy_line_the_noise_is_quiet_and_the_words_are_not():
    meter = QuietMeter(16000)
    meter.feed(noise(2.0, 300))  # the line's own noise, about -40 dBFS
    assert meter.quiet_ms >= 1900
    meter.feed(mix(tone(0.6, 4000), noise(0.6, 300, seed=8)))  # words over the noise
    assert meter.quiet_ms == 0
    meter.feed(noise(0.4, 300, seed=9))
    assert meter.quiet_ms == 400


def test_noise_that_starts_with_the_words_is_quiet_once_the_words_stop():
    meter = QuietMeter(16000)
    meter.feed(bytes(2 * 16000 * 2))  # 2 s of digital silence, then a noisy caller
    meter.feed(noise(0.3, 300, seed=2))
    meter.feed(mix(tone(0.6, 4000), noise(0.6, 300, seed=3)))
    assert meter.quiet_ms == 0
    meter.feed(noise(0.5, 300, seed=4))
    assert meter.quiet_ms >= 400

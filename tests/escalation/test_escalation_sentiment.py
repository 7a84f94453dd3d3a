"""negativity: VADER tuned for spoken complaints."""
import pytest

from ivr.escalation.sentiment import negativity


@pytest.mark.parametrize("text", [
    "this is ridiculous",
    "I already told you",
    "this is useless",
    "that was not helpful",
    "what a waste of time",
    "are you kidding me",
    "where the hell is my order",
    "oh for fuck's sake",
    "thanks for nothing",
    "oh great another menu",
    "yeah right",
    "I hate this",
    "stupid machine",
])
def test_spoken_complaints_are_negative(text):
    assert negativity(text).level >= 0.5, negativity(text)


@pytest.mark.parametrize("text", [
    "I'm not upset",
    "it's not a waste of time",
    "this is not ridiculous",
    "no thanks",
    "no",
    "yes",
    "my order is late, can you check the status",
    "my card was stolen",
    "I want to cancel my account",
    "my husband died last week",
    "oh great it's coming tomorrow, thank you",
    "great thanks that's all",
    "where is my order",
])
def test_negations_problems_and_politeness_are_not(text):
    assert negativity(text).level < 0.3, negativity(text)


def test_cues_say_why():
    assert "I already told you" in negativity("I already told you my number").cues
    assert "swearing" in negativity("this bloody thing").cues


def test_empty_text_is_neutral():
    assert negativity("").level == 0.0
    assert negativity("   ").cues == ()


def test_stronger_words_score_higher():
    assert negativity("this is ridiculous, what a waste of time").level > negativity("this is ridiculous").level

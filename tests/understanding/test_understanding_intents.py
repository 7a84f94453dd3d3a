"""Menu options chosen by what callers mean: the option's phrases first, a key said
aloud, then the topic the caller describes; a person-only option only by a clear mention."""
from __future__ import annotations

import pytest

from ivr.understanding.intents import choose_option, option_topics, topics_of

# The demo line's main menu (call_flows/acme-support.yaml).
OPTIONS = [
    ["order status", "track my order", "where is my order", "my order", "delivery"],
    ["billing", "my bill", "balance", "account balance", "payment", "how much do i owe"],
    ["store hours", "hours", "opening hours", "when are you open", "are you open"],
    ["cancel my account", "close my account"],
    ["korean"],
]
HUMANS = [False, False, False, True, False]
KEYS = ["1", "2", "3", "", "9"]
ORDER, BILLING, HOURS, CLOSING, KOREAN = range(5)


def choose(said: str):
    return choose_option(said, OPTIONS, HUMANS, KEYS)


@pytest.mark.parametrize("said, option", [
    ("my package never showed up", ORDER),
    ("the parcel hasn't arrived yet", ORDER),
    ("I'm still waiting for my parcel", ORDER),
    ("I was charged twice", BILLING),
    ("I need a refund", BILLING),
    ("there's a charge on my card I don't recognise", BILLING),
    ("what time do you close tonight", HOURS),
    ("is the shop open on sunday", HOURS),
])
def test_a_described_situation_reaches_its_option(said, option):
    choice = choose(said)
    assert choice.index == option
    assert choice.how == "meaning"
    assert choice.score >= 1.0
    assert choice.why


def test_a_named_option_is_a_phrase_match():
    choice = choose("order status please")
    assert (choice.index, choice.how) == (ORDER, "phrase")


def test_a_key_said_aloud():
    choice = choose("press two")
    assert (choice.index, choice.how) == (BILLING, "key")


def test_a_slip_of_the_recogniser_still_counts():
    assert choose("my pakage never arived").index == ORDER


@pytest.mark.parametrize("said", [
    "do you sell gift cards", "I'd like to apply for a job", "what's the weather like", "I forgot my password",
    "can I order a pizza", "", "um",
])
def test_out_of_scope_is_no_option(said):
    choice = choose(said)
    assert choice.index is None
    assert choice.how == "none"


def test_two_topics_alike_choose_nothing():
    assert choose("the parcel came and I was charged twice").index is None


def test_a_person_only_option_needs_a_clear_mention():
    assert choose("please close my account").index == CLOSING
    vague = choose("I want to cancel, I'm leaving")
    assert vague.index is None
    assert "clear mention" in vague.why


def test_an_option_stands_for_the_topics_its_phrases_name():
    assert option_topics(OPTIONS[ORDER]) == {"delivery"}
    assert option_topics(OPTIONS[BILLING]) == {"money"}
    assert option_topics(OPTIONS[HOURS]) == {"hours"}
    assert option_topics(OPTIONS[KOREAN]) == frozenset()


def test_topics_weigh_phrases_before_their_words():
    assert topics_of("close my account") == {"leaving": 2.0}
    assert topics_of("when do you close")["hours"] == 1.0
